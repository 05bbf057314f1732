/**
 * recover: under a steady stream of replies, the listener's Postgres backend is killed
 * (pg_terminate_backend). Every socket must still get every message exactly once and in
 * order, and catch up within 2 s of the kill.
 */
import { sql } from 'drizzle-orm'
import { LISTENER_APP_NAME } from '../src/realtime/postgres-bus.js'
import { createBenchSite, fail, HIGH_LIMITS, runBench, sleep, startBenchDb, startServer } from './lib.js'
import { agentPost, closeSockets, makeSessions, openSockets, staffToken, widgetSocketUrl } from './sockets.js'

const SOCKETS = 200
const RATE_PER_S = 200
const DURATION_S = 8
const KILL_AT_S = 3

await runBench('recover', async () => {
const db = await startBenchDb()
try {
  const site = await createBenchSite(db)
  const sessions = await makeSessions(db.handle.db, site.id, SOCKETS)
  const app = await startServer('serve-app.ts', { BENCH_DB_URL: db.url, ...HIGH_LIMITS })
  const jwt = await staffToken(app.port, db.handle.db)
  const seen = sessions.map(() => [] as number[])
  const sentAt = new Map<string, number>()
  let lastArrival = 0
  let worstDelay = 0
  const sockets = await openSockets(sessions.map((s) => widgetSocketUrl(app.port, site.apiKey, s)), (i, frame) => {
    if (frame.type !== 'message' || !frame.message) return
    seen[i]?.push(frame.message.seq)
    lastArrival = performance.now()
    const t0 = sentAt.get(frame.message.text)
    if (t0 !== undefined) worstDelay = Math.max(worstDelay, lastArrival - t0)
  })
  const begin = performance.now()
  let killedAt = 0
  const posts: Promise<void>[] = []
  const sentPerSession = sessions.map(() => 0)
  for (let k = 0; k < RATE_PER_S * DURATION_S; k++) {
    const wait = begin + (k * 1000) / RATE_PER_S - performance.now()
    if (wait > 0) await sleep(wait)
    if (!killedAt && performance.now() - begin > KILL_AT_S * 1000) {
      killedAt = performance.now()
      const killed = await db.handle.db.execute(sql`select pg_terminate_backend(pid) from pg_stat_activity
        where application_name = ${LISTENER_APP_NAME} and datname = current_database()`)
      if (killed.length !== 1) fail(`expected to kill the server's one LISTEN backend, found ${killed.length}`)
    }
    const i = k % SOCKETS
    const text = `recover ${k}`
    sentAt.set(text, performance.now())
    sentPerSession[i] = (sentPerSession[i] ?? 0) + 1
    posts.push(agentPost(app.port, jwt, sessions[i]?.id, text))
  }
  await Promise.all(posts)
  const lastPost = performance.now()
  const total = RATE_PER_S * DURATION_S
  for (let i = 0; i < 200 && seen.reduce((n, s) => n + s.length, 0) < total; i++) await sleep(25)
  let lost = 0
  let doubled = 0
  let outOfOrder = 0
  seen.forEach((seqs, i) => {
    const expected = sentPerSession[i] ?? 0
    const unique = new Set(seqs)
    doubled += seqs.length - unique.size
    lost += Math.max(0, expected - unique.size)
    if (seqs.some((s, j) => j > 0 && s <= (seqs[j - 1] ?? 0))) outOfOrder++
  })
  await closeSockets(sockets)
  await app.stop()
  if (!killedAt) fail('the listener backend was never killed')
  if (lost || doubled || outOfOrder) fail(`${lost} messages lost, ${doubled} doubled, ${outOfOrder} sockets out of order`)
  return {
    title: `recover: listener backend killed ${KILL_AT_S} s into ${total} replies at ${RATE_PER_S}/s over ${SOCKETS} sockets`,
    rows: [
      { name: 'messages lost / doubled / out of order', value: lost + doubled + outOfOrder, unit: '', target: { op: '≤', value: 0 } },
      { name: 'worst POST → frame delay', value: worstDelay, unit: 'ms', target: { op: '≤', value: 2000, unit: 'ms' } },
    ],
    note: `Last frame ${(lastArrival - lastPost).toFixed(0)} ms after the last POST; kill at ${((killedAt - begin) / 1000).toFixed(1)} s.`,
  }
} finally {
  await db.stop()
}
})
