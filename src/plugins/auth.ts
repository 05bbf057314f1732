import { randomUUID } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import jwt from '@fastify/jwt'
import { LRUCache } from 'lru-cache'
import { forbidden, unauthorized } from '../chat/errors.js'
import { randomToken } from '../chat/secrets.js'
import { canonicalUuid, isUuid } from '../chat/ids.js'
import { revokeStaffToken, staffForToken, staffTokenHash } from '../chat/revocations.js'
import { sessionTokens } from '../chat/session-tokens.js'
import { getOrCreateSecretSetting } from '../chat/settings.js'
import { findSiteByApiKey, originAllowed, siteSecretMatches, type Site } from '../chat/sites.js'
import type { User } from '../chat/users.js'

type StaffClaims = { sub: string; role: User['role']; tv: number; jti?: string; exp?: number }

// Every instance drops its cache at once on a site event; the lifetime bounds how long a
// change whose event was lost (a listener reconnecting) can go unseen: about a second (an
// expired entry answers until its background refresh lands, never past SITE_STALE_MS).
const SITE_CACHE_MS = 1_000
const SITE_STALE_MS = 2_000
const SITE_CACHE_MAX = 10_000
const MAX_API_KEY_CHARS = 128

declare module 'fastify' {
  interface FastifyInstance {
    /** Bearer JWT → request.staff (an enabled user whose token version still matches and who has not signed the token out) */
    requireStaff: (req: FastifyRequest) => Promise<void>
    requireAdmin: (req: FastifyRequest) => Promise<void>
    /** X-API-Key → request.site; a browser's write from an origin the site does not allow is 403 */
    requireSite: (req: FastifyRequest) => Promise<void>
    issueStaffToken: (user: User) => string
    verifyStaffToken: (token: string) => Promise<User>
    /** when the token stops working by itself (its `exp`), if it says */
    staffTokenExpiry: (token: string) => Date | undefined
    /** POST /api/auth/logout: the token stops working on every instance */
    revokeStaffToken: (token: string, user: User) => Promise<void>
    siteByApiKey: (apiKey: string | undefined) => Promise<Site>
    /** the site siteByApiKey would answer at once, when its lookup has already landed (undefined otherwise: ask siteByApiKey) */
    resolvedSite: (apiKey: string | undefined) => Site | undefined
    /** drops cached sites (after a site changes; the realtime listener calls it for other instances' changes) */
    forgetSites: () => void
    /** key + (X-Session-Token | X-API-Secret) for :id → request.site, without loading the session (hot routes load it in their own query) */
    requireSessionCredentials: (req: FastifyRequest) => Promise<void>
    /** X-API-Secret given: true when it is the site's (401 when wrong, 403 from a browser unless the site allows it); undefined when absent */
    siteSecretGiven: (req: FastifyRequest, site: Site) => boolean | undefined
    sessionTokenFor: (sessionId: string) => string
    sessionTokenValid: (sessionId: string, token: string) => boolean
  }
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: StaffClaims
  }
}

export function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name]
  const s = Array.isArray(v) ? v[0] : v
  return s === undefined || s === '' ? undefined : s
}

/** The token of `Authorization: Bearer <token>`, if the request carries one. */
export function bearerToken(req: FastifyRequest): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header(req, 'authorization') ?? '')
  return match?.[1]
}

/**
 * Browsers always send Origin on cross-origin requests (and on every POST), so a request
 * with one is a browser's. CORS only keeps a page from reading the answer; the write would
 * still be stored, so a write from an origin the site does not allow is refused outright.
 */
function assertBrowserMayWrite(req: FastifyRequest, site: Site): void {
  const origin = header(req, 'origin')
  if (origin !== undefined && req.method === 'POST' && !originAllowed(site, origin)) {
    throw forbidden('This origin is not allowed for the site: add it to the site\'s allowed origins')
  }
}

export default fp(async (app) => {
  const { config, db, secretBox } = app
  // Unset JWT_SECRET: one random secret kept (sealed) in the database, so every instance accepts every token.
  const jwtSecret = config.jwtSecret ?? (await getOrCreateSecretSetting(db, secretBox, 'jwt_secret', () => randomToken('', 48)))
  const tokenSecret = await getOrCreateSecretSetting(db, secretBox, 'session_token_secret', () => randomToken('', 48))
  await app.register(jwt, { secret: jwtSecret, sign: { algorithm: 'HS256', expiresIn: config.jwtTtlSeconds }, verify: { algorithms: ['HS256'] } })

  app.decorateRequest('site', null)
  app.decorateRequest('chatSession', null)
  app.decorateRequest('staff', null)

  // jti: two logins within one second (iat is in seconds) would otherwise get the same token, and signing one out would sign out both
  app.decorate('issueStaffToken', (user: User) => app.jwt.sign({ sub: user.id, role: user.role, tv: user.tokenVersion, jti: randomUUID() }))

  app.decorate('verifyStaffToken', async (token: string) => {
    let claims: StaffClaims
    try {
      claims = app.jwt.verify<StaffClaims>(token)
    } catch {
      throw unauthorized('Invalid or expired token')
    }
    const found = typeof claims.sub === 'string' && isUuid(claims.sub) ? await staffForToken(db, claims.sub, staffTokenHash(token)) : undefined
    if (!found || found.revoked || found.user.disabled || found.user.tokenVersion !== claims.tv) throw unauthorized('Invalid or expired token')
    return found.user
  })

  app.decorate('staffTokenExpiry', (token: string) => {
    const exp = app.jwt.decode<StaffClaims>(token)?.exp
    return typeof exp === 'number' ? new Date(exp * 1000) : undefined
  })

  app.decorate('revokeStaffToken', async (token: string, user: User) => {
    const expiresAt = app.staffTokenExpiry(token) ?? new Date(Date.now() + config.jwtTtlSeconds * 1000)
    await revokeStaffToken(db, app.bus, token, user.id, expiresAt)
  })

  // Routes run these as preParsing hooks: after the rate limit (onRequest), before the body is
  // read and validated, so a request without a valid token is 401 (an agent on an admin route
  // 403) whatever its body or query, and a stranger learns nothing of a route's schema.
  app.decorate('requireStaff', async (req: FastifyRequest) => {
    const token = bearerToken(req)
    if (!token) throw unauthorized('Authorization: Bearer <token> is required')
    req.staff = await app.verifyStaffToken(token)
  })

  app.decorate('requireAdmin', async (req: FastifyRequest) => {
    await app.requireStaff(req)
    if (req.staff?.role !== 'admin') throw forbidden('Admins only')
  })

  // Every public request names its site; caching the lookup saves a query on each poll, and
  // caching an unknown key saves one for each retry of it. The lookup itself is cached, not
  // only its answer, and an expired entry is refreshed by one query in the background while
  // requests keep its answer (for at most SITE_STALE_MS): when entries simply expired, every
  // request of that moment queried (at -c 100 up to a hundred identical queries a second,
  // each waiting behind the pool's queue). A site event drops the entries outright.
  // `site`: the lookup's answer once it has landed, so that a request finding it needs no await
  type Entry = { lookup: Promise<Site | undefined>; at: number; refreshing: boolean; site?: Site }
  const siteCache = new LRUCache<string, Entry>({ max: SITE_CACHE_MAX })
  const lookUp = (apiKey: string): Entry => {
    const entry: Entry = { lookup: findSiteByApiKey(db, apiKey), at: Date.now(), refreshing: false }
    entry.lookup.then((site) => (entry.site = site), () => undefined)
    // a failed lookup (database away) is not remembered: the next request asks again
    entry.lookup.catch(() => {
      if (siteCache.peek(apiKey) === entry) siteCache.delete(apiKey)
    })
    return entry
  }
  app.decorate('forgetSites', () => siteCache.clear())
  // site changes made by other instances (rotation, origins) reach this one's cache
  await app.bus.subscribe({
    onEvent: (event) => {
      if (event.k === 'site') siteCache.clear()
    },
    onReconnect: () => siteCache.clear(),
  })
  /** The cache entry answering for a key now: fresh, stale while one background refresh runs, or a new lookup. */
  const entryFor = (apiKey: string): Entry => {
    let entry = siteCache.get(apiKey)
    const age = entry ? Date.now() - entry.at : 0
    if (!entry || age > SITE_STALE_MS) {
      entry = lookUp(apiKey)
      siteCache.set(apiKey, entry)
    } else if (age > SITE_CACHE_MS && !entry.refreshing) {
      const stale = entry
      stale.refreshing = true
      const fresh = lookUp(apiKey)
      // the new answer replaces the old one only if nothing dropped the entry meanwhile
      fresh.lookup.then(() => {
        if (siteCache.peek(apiKey) === stale) siteCache.set(apiKey, fresh)
      }, () => (stale.refreshing = false))
    }
    return entry
  }
  const validKey = (apiKey: string | undefined): apiKey is string => apiKey !== undefined && apiKey !== '' && apiKey.length <= MAX_API_KEY_CHARS
  app.decorate('siteByApiKey', async (apiKey: string | undefined) => {
    if (!apiKey) throw unauthorized('X-API-Key header is required')
    const site = validKey(apiKey) ? await entryFor(apiKey).lookup : undefined
    if (!site) throw unauthorized('Unknown API key')
    return site
  })
  app.decorate('resolvedSite', (apiKey: string | undefined) => (validKey(apiKey) ? entryFor(apiKey).site : undefined))

  app.decorate('requireSite', async (req: FastifyRequest) => {
    const site = await app.siteByApiKey(header(req, 'x-api-key'))
    assertBrowserMayWrite(req, site)
    // routes that need only the key get the secret too (the guide's widget sends it everywhere): same rules
    app.siteSecretGiven(req, site)
    req.site = site
  })

  app.decorate('siteSecretGiven', (req: FastifyRequest, site: Site) => {
    const secret = header(req, 'x-api-secret')
    if (secret === undefined) return undefined
    // refused whether right or wrong: a secret in page code lets any visitor read every chat of the site
    if (header(req, 'origin') !== undefined && !site.legacyBrowserSecret) {
      throw forbidden('X-API-Secret is for server-to-server calls; a browser must not hold it. Use the session token (/widget.js does)')
    }
    if (!siteSecretMatches(site, secret)) throw unauthorized('Wrong API secret')
    return true
  })

  const tokens = sessionTokens(tokenSecret)
  app.decorate('sessionTokenFor', tokens.tokenFor)
  app.decorate('sessionTokenValid', tokens.matches)

  // Credentials are checked before the session is looked up, so a wrong one never reveals
  // whether a session exists; a right one for another site's session is a 404 later.
  // Public routes run this and requireSite as preParsing hooks, like the staff checks: a
  // request without valid credentials is 401 whatever its body or query.
  app.decorate('requireSessionCredentials', async (req: FastifyRequest) => {
    const apiKey = header(req, 'x-api-key')
    // every poll: the site is almost always in the cache already, and an await costs a poll more than the lookup
    const site = app.resolvedSite(apiKey) ?? await app.siteByApiKey(apiKey)
    assertBrowserMayWrite(req, site)
    // before validation, which puts an upper-case id in the spelling its token was made for
    const sessionId = canonicalUuid((req.params as { id?: string }).id ?? '')
    if (!app.siteSecretGiven(req, site)) {
      const token = header(req, 'x-session-token')
      if (token === undefined) throw unauthorized('X-Session-Token or X-API-Secret header is required')
      if (!app.sessionTokenValid(sessionId, token)) throw unauthorized('Wrong session token')
    }
    req.site = site
    // the visitor is here (for "away": offline emails)
    app.visitorSeen(sessionId)
  })
}, { name: 'auth', dependencies: ['db', 'bus', 'secrets'] })
