import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import { ChatError } from '../chat/errors.js'
import { SharedRateStore } from './shared-rate-store.js'

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

/** Rate limits with numbers from the config; 429 in the envelope with Retry-After and x-ratelimit-* headers. */
export default fp(async (app) => {
  const { rateLimits } = app.config
  await app.register(rateLimit, {
    global: false,
    store: SharedRateStore,
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
  app.decorate('limits', {
    public: { max: rateLimits.publicPerMinute, timeWindow: MINUTE_MS, keyGenerator: (req) => `pub:${headerValue(req, 'x-api-key')}:${req.ip}` },
    login: {
      max: rateLimits.loginPerMinute,
      timeWindow: MINUTE_MS,
      hook: 'preHandler',
      keyGenerator: (req) => `login:${req.ip}:${String((req.body as { email?: unknown } | undefined)?.email ?? '').toLowerCase()}`,
    },
    admin: { max: rateLimits.adminPerMinute, timeWindow: MINUTE_MS, keyGenerator: (req) => `admin:${req.ip}` },
    checkSend: extraCheck(rateLimits.sendsPerMinute, (req) => `send:${(req.params as { id?: string }).id ?? ''}`),
    checkNewSession: extraCheck(rateLimits.sessionsPerMinute, (req) => `new:${req.ip}`),
  })
}, { name: 'limits' })
