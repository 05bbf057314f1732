import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import { Redis } from 'ioredis'
import { ChatError } from '../chat/errors.js'

type RouteLimit = {
  max: number
  timeWindow: number
  keyGenerator: (req: FastifyRequest) => string
  hook?: 'onRequest' | 'preHandler'
}

declare module 'fastify' {
  interface FastifyInstance {
    /** per-route `config.rateLimit` values, by audience */
    limits: {
      public: RouteLimit
      sessionCreate: RouteLimit
      login: RouteLimit
      admin: RouteLimit
      /** messages one session (req.params.id) may send; throws RATE_LIMITED (HTTP and socket sends share it) */
      checkSend: (req: FastifyRequest) => Promise<void>
      /** the same per-session budget for a send that arrives on a socket (no request of its own) */
      checkSessionSend: (sessionId: string) => Promise<void>
    }
  }
}

const MINUTE_MS = 60_000

const rateLimited = (after: string, retryAfterSeconds?: number) =>
  new ChatError(429, 'RATE_LIMITED', `Too many requests; retry in ${after}`, undefined, retryAfterSeconds)

function headerValue(req: FastifyRequest, name: string): string {
  const v = req.headers[name]
  return (Array.isArray(v) ? v[0] : v) ?? ''
}

/**
 * Rate limits with numbers from the config; 429 in the envelope with Retry-After and
 * x-ratelimit-* headers. Counters live in memory, or in Redis when REDIS_URL is set so that
 * several instances share them. A Redis outage lets requests through rather than failing them.
 */
export default fp(async (app) => {
  const { rateLimits, redisUrl } = app.config
  const redis = redisUrl
    ? new Redis(redisUrl, { connectTimeout: 1000, maxRetriesPerRequest: 1, lazyConnect: false })
    : undefined
  if (redis) {
    redis.on('error', (err) => app.log.warn({ err: err.message }, 'rate-limit redis error'))
    app.addHook('onClose', async () => {
      await redis.quit().catch(() => redis.disconnect())
    })
  }
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_req, ctx) => rateLimited(ctx.after),
    ...(redis ? { redis, nameSpace: 'livechat-rl:', skipOnError: true } : {}),
  })
  const sendLimiter = app.createRateLimit({
    max: rateLimits.sendsPerMinute,
    timeWindow: MINUTE_MS,
    keyGenerator: (req) => `send:${(req.params as { id?: string }).id ?? ''}`,
  })
  async function enforceSendLimit(req: FastifyRequest): Promise<void> {
    const r = await sendLimiter(req)
    if (r.isAllowed || !r.isExceeded) return
    throw rateLimited(`${r.ttlInSeconds} seconds`, r.ttlInSeconds)
  }
  app.decorate('limits', {
    public: { max: rateLimits.publicPerMinute, timeWindow: MINUTE_MS, keyGenerator: (req) => `pub:${headerValue(req, 'x-api-key')}:${req.ip}` },
    sessionCreate: { max: rateLimits.sessionsPerMinute, timeWindow: MINUTE_MS, keyGenerator: (req) => `new:${req.ip}` },
    login: {
      max: rateLimits.loginPerMinute,
      timeWindow: MINUTE_MS,
      hook: 'preHandler',
      keyGenerator: (req) => `login:${req.ip}:${String((req.body as { email?: unknown } | undefined)?.email ?? '').toLowerCase()}`,
    },
    admin: { max: rateLimits.adminPerMinute, timeWindow: MINUTE_MS, keyGenerator: (req) => `admin:${req.ip}` },
    checkSend: (req: FastifyRequest) => enforceSendLimit(req),
    // The limiter reads only what its key generator needs and the route's rate-limit config;
    // a socket keeps no request per frame, so it passes this stand-in keyed like the HTTP route.
    checkSessionSend: (sessionId: string) => enforceSendLimit({ params: { id: sessionId }, routeOptions: { config: {} } } as unknown as FastifyRequest),
  })
}, { name: 'limits' })
