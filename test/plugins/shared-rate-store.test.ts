import t from 'tap'
import { MAX_WINDOWS_PER_AUDIENCE, SharedRateStore } from '../../src/plugins/shared-rate-store.js'

const MINUTE_MS = 60_000

function hit(store: SharedRateStore, key: string): number {
  let current = -1
  store.incr(key, (err, result) => {
    if (err || !result) throw err ?? new Error('no result')
    current = result.current
  }, MINUTE_MS)
  return current
}

t.test('a flood of other traffic cannot push login windows out, and eviction stays cheap', async (t) => {
  const store = new SharedRateStore()
  t.equal(hit(store, 'login:admin@example.com'), 1)
  t.equal(hit(store, 'login:admin@example.com'), 2)
  const flood = MAX_WINDOWS_PER_AUDIENCE + 20_000
  const started = process.hrtime.bigint()
  for (let i = 0; i < flood; i++) hit(store, `pub:198.51.${i >> 8}.${i & 255}:${i}`)
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  t.equal(store.size('pub'), MAX_WINDOWS_PER_AUDIENCE, 'the public audience is held at its bound')
  t.equal(hit(store, 'login:admin@example.com'), 3, 'the login window kept its count')
  t.equal(hit(store, 'pub:198.51.0.0:0'), 1, 'the oldest public window was the one evicted')
  // a full scan per new key past the bound (the old store) took minutes here; O(1) takes well under a second
  t.ok(ms < 20_000, `${flood} new keys in ${Math.round(ms)} ms`)
})

t.test('a window restarts once its time is up', async (t) => {
  const store = new SharedRateStore()
  let ttl = -1
  store.incr('send:s1', (_err, r) => { ttl = r?.ttl ?? -1 }, 50)
  t.ok(ttl > 0 && ttl <= 50)
  await new Promise((r) => setTimeout(r, 80))
  let current = -1
  store.incr('send:s1', (_err, r) => { current = r?.current ?? -1 }, 50)
  t.equal(current, 1)
})
