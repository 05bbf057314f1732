import { createHmac, createSecretKey, type KeyObject } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { sameHash } from './secrets.js'

/**
 * Session tokens are derived (HMAC of the session id under a server secret kept in the
 * database), not stored: resuming returns the same token, so other tabs holding it keep
 * working, and a leaked table row reveals nothing that opens a session.
 */
export function sessionToken(secret: string | KeyObject, sessionId: string): string {
  return 'st_' + createHmac('sha256', secret).update(sessionId).digest('base64url')
}

export function sessionTokenMatches(secret: string | KeyObject, sessionId: string, token: string): boolean {
  return sameHash(sessionToken(secret, sessionId), token)
}

/** Tokens this process has verified, remembered; past it the least recently used goes. */
const VERIFIED_MAX = 20_000

export type SessionTokens = {
  tokenFor: (sessionId: string) => string
  matches: (sessionId: string, token: string) => boolean
}

/**
 * The tokens of one secret, for a server checking them on every widget request. The secret
 * becomes a key object once (createHmac with a string re-imports it each call), and a token
 * once verified is remembered with its session: the pair is valid for as long as the secret,
 * which does not change while the process runs, so a poll costs a map lookup instead of an
 * HMAC (the largest part of the auth hook's CPU in a profile). Only right tokens are kept, so
 * wrong guesses cannot push them out; a remembered token is matched to its session by
 * identity, so a token of one session still opens no other.
 */
export function sessionTokens(secret: string): SessionTokens {
  const key = createSecretKey(Buffer.from(secret))
  const verified = new LRUCache<string, string>({ max: VERIFIED_MAX })
  return {
    tokenFor: (sessionId) => sessionToken(key, sessionId),
    matches: (sessionId, token) => {
      if (verified.get(token) === sessionId) return true
      if (!sessionTokenMatches(key, sessionId, token)) return false
      verified.set(token, sessionId)
      return true
    },
  }
}
