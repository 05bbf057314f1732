import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import rateLimit, { normalizeIP } from '@fastify/rate-limit'
import { ChatError } from '../chat/errors.js'
import { PasswordHashGate } from '../chat/password-gate.js'
import { normaliseEmail } from '../chat/users.js'
import { SharedRateStore, sharedRedisStore } from './shared-rate-store.js'

type RouteLimit = {
  max: number
  timeWindow: number
  keyGenerator: (req: FastifyRequest) => string
  hook?: 'onRequest' | 'preHandler'
}

type Check = (req: FastifyRequest, reply?: FastifyReply) => Promise<void>

declare module 'fastify' {
  interface FastifyInstance {
    /** per-route `config.rateLimit` values, by audience, and the checks that run beside them */
    limits: {
      /** every public route, per client IP, counted before the site key is even looked up */
      public: RouteLimit
      /** login attempts per client IP, whatever the email */
      login: RouteLimit
      admin: RouteLimit
      /** login attempts against one account (the body's email, trimmed and lower-cased) */
      checkLoginAccount: Check
      /** messages one session (req.params.id) may send; throws RATE_LIMITED (HTTP and socket sends share it) */
      checkSend: Check
      /** a message sent on a widget socket: the same per-session and per-IP budgets as an HTTP send */
      checkSocketSend: (sessionId: string, clientAddress: string) => Promise<void>
      /** a read mark sent on a widget socket: the per-IP budget of the HTTP read route (each one is a write) */
      checkSocketRead: (sessionId: string, clientAddress: string) => Promise<void>
      /** files one session (req.params.id) may get uploaded; throws RATE_LIMITED */
      checkUpload: Check
      /**
       * files visitors on one IP may upload, over all their sessions: a new session (200 a minute
       * per IP) would otherwise bring a fresh per-session budget, and each file may be 10 MiB
       */
      checkVisitorUploadIp: Check
      /** sessions one IP may create; a check of its own, since the plugin runs one route limit per request */
      checkNewSession: Check
      /** legacy Telegram notifications per IP: each one posts to a Telegram chat */
      checkNotify: Check
      /** a budget of `max` per `timeWindowMs` counted by a key the caller gives (not read from a request) */
      keyedBudget: (max: number, timeWindowMs: number) => KeyedBudget
    }
    /** password hashing with bounded concurrency (429 past its queue) */
    passwordHashGate: PasswordHashGate
  }
}

const MINUTE_MS = 60_000
/** The longest a limited request waits for Redis; it answers in well under a millisecond when healthy. */
export const REDIS_COMMAND_TIMEOUT_MS = 250

const rateLimited = (after: string, retryAfterSeconds?: number) =>
  new ChatError(429, 'RATE_LIMITED', `Too many requests; retry in ${after}`, undefined, retryAfterSeconds)

/**
 * The client's address as the limits count it: what Fastify's trustProxy made of the
 * connection, with an IPv6 client's whole /64 as one address (a host gets a /64 and can
 * pick any address in it).
 */
export const clientAddress = (req: Pick<FastifyRequest, 'ip'>) => {
  const ip = req.ip
  // an IPv4 address needs no parsing (normalizeIP would lower-case it after an IPv6 regex test)
  return ip.includes(':') ? normalizeIP(ip) : ip.toLowerCase()
}

/** The email a login names, as accounts are looked up (and counted). */
export function loginEmail(req: FastifyRequest): string {
  const email = (req.body as { email?: unknown } | undefined)?.email
  return typeof email === 'string' ? normaliseEmail(email) : ''
}

/** A stand-in request for checks that run outside one (socket frames, keyed budgets); the limiter reads only these fields. */
const standIn = (ip: string, sessionId: string, key = '') =>
  ({ ip, params: { id: sessionId }, key, routeOptions: { config: {} } }) as unknown as FastifyRequest

/** Spends one from `key`'s budget: undefined while it lasts, else the seconds until it refills. */
export type KeyedBudget = (key: string) => Promise<{ max: number; retryAfterSeconds: number } | undefined>

/**
 * Rate limits with numbers from the config; 429 in the envelope with Retry-After and
 * x-ratelimit-* headers. Counters live in memory, or in Redis when REDIS_URL is set so that
 * several instances share them. While Redis does not answer, each instance counts on its own
 * (see sharedRedisStore): no request waits for Redis longer than REDIS_COMMAND_TIMEOUT_MS (250 ms).
 */
export default fp(async (app) => {
  const { rateLimits, redisUrl } = app.config
  // ioredis is loaded only when used: it is most of a second of start-up on a small machine
  const redis = redisUrl
    ? new (await import('ioredis')).Redis(redisUrl, {
      connectTimeout: 1000,
      // a command fails at once while disconnected, and after the timeout when Redis is stalled,
      // instead of queueing behind reconnects (requests hung for seconds, or for good)
      enableOfflineQueue: false,
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
      maxRetriesPerRequest: 0,
    })
    : undefined
  if (redis) {
    redis.on('error', (err) => app.log.warn({ err: err.message }, 'rate-limit redis error'))
    app.addHook('onClose', async () => {
      await redis.quit().catch(() => redis.disconnect())
    })
  }
  await app.register(rateLimit, {
    global: false,
    store: redis
      ? sharedRedisStore(redis, {
        unshared: (err) => app.log.warn({ err: err.message }, 'rate limits counted per instance until redis answers'),
        shared: () => app.log.info('rate limits shared through redis again'),
      })
      : SharedRateStore,
    skipOnError: true,
    errorResponseBuilder: (_req, ctx) => rateLimited(ctx.after),
  })
  // Checks beside the route limit: @fastify/rate-limit runs only the first route limit of a request.
  const extraCheck = (max: number, keyGenerator: (req: FastifyRequest) => string): Check => {
    const limiter = app.createRateLimit({ max, timeWindow: MINUTE_MS, keyGenerator })
    return async (req, reply) => {
      const r = await limiter(req)
      if (r.isAllowed || !r.isExceeded) return
      reply?.headers({ 'x-ratelimit-limit': r.max, 'x-ratelimit-remaining': 0, 'x-ratelimit-reset': r.ttlInSeconds })
      throw rateLimited(`${r.ttlInSeconds} seconds`, r.ttlInSeconds)
    }
  }
  const publicKey = (req: FastifyRequest) => `pub:${clientAddress(req)}`
  const checkSend = extraCheck(rateLimits.sendsPerMinute, (req) => `send:${(req.params as { id?: string }).id ?? ''}`)
  // the same window as the public route limit: a socket's messages spend the IP's public budget
  const checkPublic = extraCheck(rateLimits.publicPerMinute, publicKey)
  app.decorate('limits', {
    public: { max: rateLimits.publicPerMinute, timeWindow: MINUTE_MS, keyGenerator: publicKey },
    login: { max: rateLimits.loginIpPerMinute, timeWindow: MINUTE_MS, keyGenerator: (req) => `loginip:${clientAddress(req)}` },
    admin: { max: rateLimits.adminPerMinute, timeWindow: MINUTE_MS, keyGenerator: (req) => `admin:${clientAddress(req)}` },
    checkLoginAccount: extraCheck(rateLimits.loginPerMinute, (req) => `login:${loginEmail(req)}`),
    checkSend,
    checkSocketSend: async (sessionId: string, ip: string) => {
      const req = standIn(ip, sessionId)
      await checkPublic(req)
      await checkSend(req)
    },
    checkSocketRead: (sessionId: string, ip: string) => checkPublic(standIn(ip, sessionId)),
    checkNewSession: extraCheck(rateLimits.sessionsPerMinute, (req) => `new:${clientAddress(req)}`),
    checkNotify: extraCheck(rateLimits.notifyPerMinute, (req) => `notify:${clientAddress(req)}`),
    checkUpload: extraCheck(rateLimits.uploadsPerMinute, (req) => `upload:${(req.params as { id?: string }).id ?? ''}`),
    checkVisitorUploadIp: extraCheck(rateLimits.uploadsIpPerMinute, (req) => `uploadip:${clientAddress(req)}`),
    keyedBudget: (max, timeWindowMs) => {
      const limiter = app.createRateLimit({ max, timeWindow: timeWindowMs, keyGenerator: (req) => (req as unknown as { key: string }).key })
      return async (key) => {
        const r = await limiter(standIn('', '', key))
        return r.isAllowed || !r.isExceeded ? undefined : { max: r.max, retryAfterSeconds: r.ttlInSeconds }
      }
    },
  })
  app.decorate('passwordHashGate', new PasswordHashGate(app.config.passwordHashConcurrency, app.config.passwordHashQueue))
}, { name: 'limits' })
