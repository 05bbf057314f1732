import { createHmac } from 'node:crypto'
import { sameHash } from './secrets.js'

/**
 * Session tokens are derived (HMAC of the session id under a server secret kept in the
 * database), not stored: resuming returns the same token, so other tabs holding it keep
 * working, and a leaked table row reveals nothing that opens a session.
 */
export function sessionToken(secret: string, sessionId: string): string {
  return 'st_' + createHmac('sha256', secret).update(sessionId).digest('base64url')
}

export function sessionTokenMatches(secret: string, sessionId: string, token: string): boolean {
  return sameHash(sessionToken(secret, sessionId), token)
}
