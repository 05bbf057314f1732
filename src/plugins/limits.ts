import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import { Redis } from 'ioredis'
import { ChatError } from '../chat/errors.js'
import { SharedRateStore, sharedRedisStore } from './shared-rate-store.js'

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
      login: RouteLimit
      admin: RouteLimit
      /** messages one session (req.params.id) may send; throws RATE_LIMITED (HTTP and socket sends share it) */
      checkSend: (req: FastifyRequest, reply?: FastifyReply) => Promise<void>
      /** the same per-session budget for a send that arrives on a socket (no request of its own) */
      checkSessionSend: (sessionId: string) => Promise<void>
      /** files one session (req.params.id) may get uploaded; throws RATE_LIMITED */
      checkUpload: (req: FastifyRequest, reply?: FastifyReply) => Promise<void>
      /** sessions one IP may create; a check of its own, since the plugin runs one route limit per request */
      checkNewSession: (req: FastifyRequest, reply?: FastifyReply) => Promise<void>
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
    ? new Redis(redisUrl, { connectTimeout: 1000, maxRetriesPerRequest: 1 })
    : undefined
  if (redis) {
    redis.on('error', (err) => app.log.warn({ err: err.message }, 'rate-limit redis error'))
    app.addHook('onClose', async () => {
      await redis.quit().catch(() => redis.disconnect())
    })
  }
  await app.register(rateLimit, {
    global: false,
    store: redis ? sharedRedisStore(redis) : SharedRateStore,
    skipOnError: true,
    errorResponseBuilder: (_req, ctx) => rateLimited(ctx.after),
  })
  // Checks beside the route limit: @fastify/rate-limit runs only the first route limit of a request.
  const extraCheck = (max: number, keyGenerator: (req: FastifyRequest) => string) => {
    const limiter = app.createRateLimit({ max, timeWindow: MINUTE_MS, keyGenerator })
    return async (req: FastifyRequest, reply?: FastifyReply) => {
      const r = await limiter(req)
      if (r.isAllowed || !r.isExceeded) return
      reply?.headers({ 'x-ratelimit-limit': r.max, 'x-ratelimit-remaining': 0, 'x-ratelimit-reset': r.ttlInSeconds })
      throw rateLimited(`${r.ttlInSeconds} seconds`, r.ttlInSeconds)
    }
  }
  const checkSend = extraCheck(rateLimits.sendsPerMinute, (req) => `send:${(req.params as { id?: string }).id ?? ''}`)
  app.decorate('limits', {
    public: { max: rateLimits.publicPerMinute, timeWindow: MINUTE_MS, keyGenerator: (req) => `pub:${headerValue(req, 'x-api-key')}:${req.ip}` },
    login: {
      max: rateLimits.loginPerMinute,
      timeWindow: MINUTE_MS,
      hook: 'preHandler',
      keyGenerator: (req) => `login:${req.ip}:${String((req.body as { email?: unknown } | undefined)?.email ?? '').toLowerCase()}`,
    },
    admin: { max: rateLimits.adminPerMinute, timeWindow: MINUTE_MS, keyGenerator: (req) => `admin:${req.ip}` },
    checkSend,
    // The limiter reads only what its key generator needs and the route's rate-limit config;
    // a socket keeps no request per frame, so it passes this stand-in keyed like the HTTP route.
    checkSessionSend: (sessionId: string) => checkSend({ params: { id: sessionId }, routeOptions: { config: {} } } as unknown as FastifyRequest),
    checkNewSession: extraCheck(rateLimits.sessionsPerMinute, (req) => `new:${req.ip}`),
    checkUpload: extraCheck(rateLimits.uploadsPerMinute, (req) => `upload:${(req.params as { id?: string }).id ?? ''}`),
  })
}, { name: 'limits' })
