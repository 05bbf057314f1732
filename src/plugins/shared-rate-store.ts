import type { FastifyRateLimitStore } from '@fastify/rate-limit'
import type { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'

type Window = { count: number; resetAtMs: number }
type Result = { current: number; ttl: number }

/** Windows kept per audience; past it the least recently used window of that audience goes, in O(1). */
export const MAX_WINDOWS_PER_AUDIENCE = 100_000

/** The audience a key names: the part before its first colon (`pub`, `login`, `send`, ...). */
const audienceOf = (key: string) => key.slice(0, Math.max(0, key.indexOf(':')))

/**
 * Fixed-window counters in memory, ONE store for every route. @fastify/rate-limit gives each
 * route its own store by default, which turns a per-audience budget ("all public routes of an
 * IP together") into a per-route one. Our keys name their audience (`pub:`, `admin:`,
 * `login:`, `send:`, ...), so sharing the store is what makes budgets span routes.
 *
 * Each audience has its own bounded LRU (lru-cache: O(1) eviction, where the previous
 * Map-scan was O(n) per new key once full), so a flood of one kind of traffic, such as
 * public requests from many addresses, can never push out another kind's windows, such as
 * the login attempts against an account.
 */
export class SharedRateStore implements FastifyRateLimitStore {
  private readonly audiences = new Map<string, LRUCache<string, Window>>()

  incr(key: string, callback: (error: Error | null, result?: Result) => void, timeWindow: number): void {
    const now = Date.now()
    const windows = this.windowsOf(key)
    let w = windows.get(key)
    if (!w || w.resetAtMs <= now) {
      w = { count: 0, resetAtMs: now + timeWindow }
      // no LRU ttl: the window's own resetAtMs decides, and lru-cache's TTL tracking cost
      // every request a clock read and a timer (its 1 ms "now" cache) for nothing more
      windows.set(key, w)
    }
    w.count++
    callback(null, { current: w.count, ttl: w.resetAtMs - now })
  }

  read(key: string, callback: (error: Error | null, result?: Result) => void, timeWindow: number): void {
    const now = Date.now()
    const w = this.windowsOf(key).get(key)
    callback(null, w && w.resetAtMs > now ? { current: w.count, ttl: w.resetAtMs - now } : { current: 0, ttl: timeWindow })
  }

  child(): FastifyRateLimitStore {
    return this
  }

  /** How many windows an audience holds (for tests and metrics). */
  size(audience: string): number {
    return this.audiences.get(audience)?.size ?? 0
  }

  private windowsOf(key: string): LRUCache<string, Window> {
    const audience = audienceOf(key)
    let windows = this.audiences.get(audience)
    if (!windows) {
      windows = new LRUCache<string, Window>({ max: MAX_WINDOWS_PER_AUDIENCE })
      this.audiences.set(audience, windows)
    }
    return windows
  }
}

// INCR and set the window's expiry on its first hit, atomically: a fixed window per key.
const INCR_LUA = `
  local current = redis.call('INCR', KEYS[1])
  if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
  return { current, redis.call('PTTL', KEYS[1]) }`

const REDIS_PREFIX = 'livechat-rl:'

/** What the Redis store says when it stops and starts sharing counters. */
export type RedisStoreEvents = { unshared: (err: Error) => void; shared: () => void }

/** While Redis does not answer, one request this often tries it again; the others count in memory at once. */
export const REDIS_RETRY_MS = 1000

/**
 * The same one-store-for-every-route counters, kept in Redis so that every instance shares
 * them; every key expires with its window, so Redis holds only live windows.
 *
 * While Redis does not answer (down, restarting, too slow: the client's command timeout), each
 * instance counts in memory on its own, as without REDIS_URL: a limit still holds per instance
 * instead of waiting on Redis (every limited request would hang) or letting everything through.
 * Only one request per REDIS_RETRY_MS asks Redis meanwhile, so a stalled Redis costs the
 * others no wait.
 */
export function sharedRedisStore(redis: Redis, events: RedisStoreEvents): new () => FastifyRateLimitStore {
  const local = new SharedRateStore()
  let sharing = true
  let nextTryMs = 0
  return class SharedRedisStore implements FastifyRateLimitStore {
    incr(key: string, callback: (error: Error | null, result?: Result) => void, timeWindow: number): void {
      if (!sharing) {
        const now = Date.now()
        if (now < nextTryMs) return local.incr(key, callback, timeWindow)
        nextTryMs = now + REDIS_RETRY_MS
      }
      redis.eval(INCR_LUA, 1, REDIS_PREFIX + key, timeWindow).then(
        (r) => {
          if (!sharing) { sharing = true; events.shared() }
          const [current, ttl] = r as [number, number]
          callback(null, { current, ttl: ttl > 0 ? ttl : timeWindow })
        },
        (err: Error) => {
          if (sharing) {
            sharing = false
            nextTryMs = Date.now() + REDIS_RETRY_MS
            events.unshared(err)
          }
          local.incr(key, callback, timeWindow)
        },
      )
    }

    child(): FastifyRateLimitStore {
      return this
    }
  }
}
