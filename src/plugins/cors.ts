import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import cors from '@fastify/cors'
import { sql } from 'drizzle-orm'
import { normaliseOrigin, originAllowed } from '../chat/sites.js'

const PUBLIC_PREFIX = '/api/public/'
const PUBLIC_HEADERS = ['Content-Type', 'X-API-Key', 'X-API-Secret', 'X-Session-Token']
const EXPOSED_HEADERS = ['Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset']
const PREFLIGHT_MAX_AGE_S = 600
const PREFLIGHT_ORIGINS_CACHE_MS = 1_000

/**
 * CORS only for the public widget API, and only for the origins of the site whose key the
 * request carries. A preflight carries no key, so it is granted to any origin some site
 * allows; the real request that follows is then checked against its own site.
 */
export default fp(async (app) => {
  // Preflights carry no key and need no login, so they must cost no query each: the union
  // of every site's origins is read at most once a second and shared by concurrent callers.
  let allowed: { origins: Promise<Set<string>>; at: number } | undefined
  async function anySiteAllows(origin: string): Promise<boolean> {
    if (!allowed || Date.now() - allowed.at > PREFLIGHT_ORIGINS_CACHE_MS) {
      const origins = app.db.execute<{ origin: string }>(sql`select distinct unnest(origins) as origin from sites`)
        .then((rows) => new Set(rows.map((r) => r.origin)))
      allowed = { origins, at: Date.now() }
      origins.catch(() => (allowed = undefined))
    }
    const origins = await allowed.origins
    return origins.has('*') || origins.has(normaliseOrigin(origin))
  }

  await app.register(cors, {
    hideOptionsRoute: true,
    delegator: async (req: FastifyRequest) => {
      const origin = req.headers.origin
      const path = req.url
      const deny = { origin: false }
      if (!origin || !path.startsWith(PUBLIC_PREFIX)) return deny
      const base = {
        methods: ['GET', 'POST', 'OPTIONS'],
        allowedHeaders: PUBLIC_HEADERS,
        exposedHeaders: EXPOSED_HEADERS,
        maxAge: PREFLIGHT_MAX_AGE_S,
        strictPreflight: false,
      }
      if (req.method === 'OPTIONS') return (await anySiteAllows(origin)) ? { ...base, origin } : deny
      const key = req.headers['x-api-key']
      // the auth plugin's cached lookup: a browser's every poll carries an Origin
      const site = typeof key === 'string' ? await app.siteByApiKey(key).catch(() => undefined) : undefined
      return site && originAllowed(site, origin) ? { ...base, origin } : deny
    },
  })
}, { name: 'cors', dependencies: ['db', 'auth'] })
