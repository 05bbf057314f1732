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
const MAX_CACHED_GRANTS = 1_000

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

  const base = {
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: PUBLIC_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: PREFLIGHT_MAX_AGE_S,
    strictPreflight: false,
  }
  // One options object per answer, given again for the same answer: @fastify/cors normalizes a
  // delegator's options once per object (patches/@fastify+cors), not on every request.
  const deny = Object.freeze({ origin: false })
  type Options = typeof deny | Readonly<typeof base & { origin: string }>
  const grants = new Map<string, Options>()
  const allow = (origin: string): Options => {
    let grant = grants.get(origin)
    if (grant === undefined) {
      // a site open to '*' grants any origin a client names: the cache must not grow with them
      if (grants.size >= MAX_CACHED_GRANTS) grants.clear()
      grant = Object.freeze({ ...base, origin })
      grants.set(origin, grant)
    }
    return grant
  }
  const answer = (options: Promise<Options>, done: (err: Error | null, options: Options) => void) => {
    options.then((o) => done(null, o), (err: Error) => done(err, deny))
  }

  await app.register(cors, {
    hideOptionsRoute: true,
    // callback style: a request without an Origin (a server's, or the widget's same-origin
    // page) is answered at once, without a promise per request
    delegator: (req: FastifyRequest, done: (err: Error | null, options: Options) => void) => {
      const origin = req.headers.origin
      if (!origin || !req.url.startsWith(PUBLIC_PREFIX)) return done(null, deny)
      if (req.method === 'OPTIONS') return answer(anySiteAllows(origin).then((ok) => (ok ? allow(origin) : deny)), done)
      const key = req.headers['x-api-key']
      if (typeof key !== 'string') return done(null, deny)
      // the auth plugin's cached lookup: a browser's every poll carries an Origin, and a
      // site already in the cache is answered without a promise
      const site = app.resolvedSite(key)
      if (site) return done(null, originAllowed(site, origin) ? allow(origin) : deny)
      answer(app.siteByApiKey(key).then((site) => (originAllowed(site, origin) ? allow(origin) : deny), () => deny), done)
    },
  })
}, { name: 'cors', dependencies: ['db', 'auth'] })
