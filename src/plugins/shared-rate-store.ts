import type { FastifyRateLimitStore } from '@fastify/rate-limit'
import type { Redis } from 'ioredis'

type Window = { count: number; startMs: number; lengthMs: number }
type Result = { current: number; ttl: number }

const MAX_KEYS = 100_000

/**
 * Fixed-window counters in memory, ONE store for every route. @fastify/rate-limit gives each
 * route its own store by default, which turns a per-audience budget ("all public routes of a
 * site key and IP together") into a per-route one. Our keys name their audience (`pub:`,
 * `admin:`, `login:`, `send:`, ...), so sharing the store is what makes budgets span routes.
 */
export class SharedRateStore implements FastifyRateLimitStore {
  private readonly windows = new Map<string, Window>()

  incr(key: string, callback: (error: Error | null, result?: Result) => void, timeWindow: number): void {
    const now = Date.now()
    let w = this.windows.get(key)
    if (!w || w.startMs + w.lengthMs <= now) {
      w = { count: 0, startMs: now, lengthMs: timeWindow }
      this.windows.delete(key)
      this.windows.set(key, w)
      this.evict(now)
    }
    w.count++
    callback(null, { current: w.count, ttl: w.startMs + w.lengthMs - now })
  }

  read(key: string, callback: (error: Error | null, result?: Result) => void, timeWindow: number): void {
    const now = Date.now()
    const w = this.windows.get(key)
    const alive = w && w.startMs + w.lengthMs > now
    callback(null, alive ? { current: w.count, ttl: w.startMs + w.lengthMs - now } : { current: 0, ttl: timeWindow })
  }

  child(): FastifyRateLimitStore {
    return this
  }

  /** Expired windows go first; past the cap the oldest windows go (Map keeps insertion order). */
  private evict(now: number): void {
    if (this.windows.size <= MAX_KEYS) return
    for (const [key, w] of this.windows) if (w.startMs + w.lengthMs <= now) this.windows.delete(key)
    for (const key of this.windows.keys()) {
      if (this.windows.size <= MAX_KEYS) break
      this.windows.delete(key)
    }
  }
}

// INCR and set the window's expiry on its first hit, atomically: a fixed window per key.
const INCR_LUA = `
  local current = redis.call('INCR', KEYS[1])
  if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
  return { current, redis.call('PTTL', KEYS[1]) }`

const REDIS_PREFIX = 'livechat-rl:'

/** The same one-store-for-every-route counters, kept in Redis so that every instance shares them. */
export function sharedRedisStore(redis: Redis): new () => FastifyRateLimitStore {
  return class SharedRedisStore implements FastifyRateLimitStore {
    incr(key: string, callback: (error: Error | null, result?: Result) => void, timeWindow: number): void {
      redis.eval(INCR_LUA, 1, REDIS_PREFIX + key, timeWindow).then(
        (r) => {
          const [current, ttl] = r as [number, number]
          callback(null, { current, ttl: ttl > 0 ? ttl : timeWindow })
        },
        (err: Error) => callback(err),
      )
    }

    child(): FastifyRateLimitStore {
      return this
    }
  }
}
