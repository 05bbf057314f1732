import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import jwt from '@fastify/jwt'
import { forbidden, unauthorized } from '../chat/errors.js'
import { randomToken } from '../chat/secrets.js'
import { isUuid } from '../chat/ids.js'
import { sessionToken, sessionTokenMatches } from '../chat/session-tokens.js'
import { getOrCreateSetting } from '../chat/settings.js'
import { findSiteByApiKey, siteSecretMatches, type Site } from '../chat/sites.js'
import { getUser, type User } from '../chat/users.js'

type StaffClaims = { sub: string; role: User['role']; tv: number }

// Short enough that a change made on another instance before its notification arrives is
// seen soon; each instance drops the cache at once on site events and its own changes.
const SITE_CACHE_MS = 5_000
const SITE_CACHE_MAX = 10_000

declare module 'fastify' {
  interface FastifyInstance {
    /** Bearer JWT → request.staff (an enabled user whose token version still matches) */
    requireStaff: (req: FastifyRequest) => Promise<void>
    requireAdmin: (req: FastifyRequest) => Promise<void>
    /** X-API-Key → request.site */
    requireSite: (req: FastifyRequest) => Promise<void>
    issueStaffToken: (user: User) => string
    verifyStaffToken: (token: string) => Promise<User>
    siteByApiKey: (apiKey: string | undefined) => Promise<Site>
    /** drops cached sites (after a site changes; the realtime listener calls it for other instances' changes) */
    forgetSites: () => void
    /** key + (X-Session-Token | X-API-Secret) for :id → request.site, without loading the session (hot routes load it in their own query) */
    requireSessionCredentials: (req: FastifyRequest) => Promise<void>
    sessionTokenFor: (sessionId: string) => string
    sessionTokenValid: (sessionId: string, token: string) => boolean
  }
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: StaffClaims
  }
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name]
  const s = Array.isArray(v) ? v[0] : v
  return s === undefined || s === '' ? undefined : s
}

export default fp(async (app) => {
  const { config, db } = app
  // Unset JWT_SECRET: one random secret kept in the database, so every instance accepts every token.
  const jwtSecret = config.jwtSecret ?? (await getOrCreateSetting(db, 'jwt_secret', () => randomToken('', 48)))
  const tokenSecret = await getOrCreateSetting(db, 'session_token_secret', () => randomToken('', 48))
  await app.register(jwt, { secret: jwtSecret, sign: { algorithm: 'HS256', expiresIn: config.jwtTtlSeconds }, verify: { algorithms: ['HS256'] } })

  app.decorateRequest('site', null)
  app.decorateRequest('chatSession', null)
  app.decorateRequest('staff', null)

  app.decorate('issueStaffToken', (user: User) => app.jwt.sign({ sub: user.id, role: user.role, tv: user.tokenVersion }))

  app.decorate('verifyStaffToken', async (token: string) => {
    let claims: StaffClaims
    try {
      claims = app.jwt.verify<StaffClaims>(token)
    } catch {
      throw unauthorized('Invalid or expired token')
    }
    const user = typeof claims.sub === 'string' && isUuid(claims.sub) ? await getUser(db, claims.sub) : undefined
    if (!user || user.disabled || user.tokenVersion !== claims.tv) throw unauthorized('Invalid or expired token')
    return user
  })

  app.decorate('requireStaff', async (req: FastifyRequest) => {
    const auth = header(req, 'authorization')
    const match = auth && /^Bearer\s+(\S+)\s*$/i.exec(auth)
    if (!match?.[1]) throw unauthorized('Authorization: Bearer <token> is required')
    req.staff = await app.verifyStaffToken(match[1])
  })

  app.decorate('requireAdmin', async (req: FastifyRequest) => {
    await app.requireStaff(req)
    if (req.staff?.role !== 'admin') throw forbidden('Admins only')
  })

  // Every public request names its site; caching the lookup saves a query on each poll.
  const siteCache = new Map<string, { site: Site; at: number }>()
  app.decorate('forgetSites', () => siteCache.clear())
  // site changes made by other instances (rotation, origins) reach this one's cache
  await app.bus.subscribe({
    onEvent: (event) => {
      if (event.k === 'site') siteCache.clear()
    },
    onReconnect: () => siteCache.clear(),
  })
  app.decorate('siteByApiKey', async (apiKey: string | undefined) => {
    if (!apiKey) throw unauthorized('X-API-Key header is required')
    const cached = siteCache.get(apiKey)
    if (cached && Date.now() - cached.at < SITE_CACHE_MS) return cached.site
    const site = apiKey.length <= 128 ? await findSiteByApiKey(db, apiKey) : undefined
    if (!site) throw unauthorized('Unknown API key')
    if (siteCache.size >= SITE_CACHE_MAX) siteCache.clear()
    siteCache.set(apiKey, { site, at: Date.now() })
    return site
  })

  app.decorate('requireSite', async (req: FastifyRequest) => {
    req.site = await app.siteByApiKey(header(req, 'x-api-key'))
  })

  app.decorate('sessionTokenFor', (sessionId: string) => sessionToken(tokenSecret, sessionId))
  app.decorate('sessionTokenValid', (sessionId: string, token: string) => sessionTokenMatches(tokenSecret, sessionId, token))

  // Credentials are checked before the session is looked up, so a wrong one never reveals
  // whether a session exists; a right one for another site's session is a 404 later.
  app.decorate('requireSessionCredentials', async (req: FastifyRequest) => {
    const site = await app.siteByApiKey(header(req, 'x-api-key'))
    const sessionId = (req.params as { id?: string }).id ?? ''
    const secret = header(req, 'x-api-secret')
    const token = header(req, 'x-session-token')
    if (secret !== undefined) {
      if (!siteSecretMatches(site, secret)) throw unauthorized('Wrong API secret')
    } else if (token !== undefined) {
      if (!app.sessionTokenValid(sessionId, token)) throw unauthorized('Wrong session token')
    } else {
      throw unauthorized('X-Session-Token or X-API-Secret header is required')
    }
    req.site = site
    // the visitor is here (for "away": offline emails)
    app.visitorSeen(sessionId)
  })
}, { name: 'auth', dependencies: ['db', 'bus'] })
