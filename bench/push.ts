/**
 * push: an agent's POST → the visitor's socket frame, p50/p99, with 1,000 and 10,000 open
 * widget sockets, 50 replies/s offered (open loop), while 200 other visitors (sockets open
 * too) write 50 messages/s between them. Baseline, same run and client: a bare `ws` server
 * that sends the same frame when POSTed to, under the same background POSTs. Each figure
 * lasts longer than one heartbeat period (WS_HEARTBEAT_MS, 25 s), so every socket is pinged
 * while latencies are measured.
 */
import { sql } from 'drizzle-orm'
import { createBenchSite, HIGH_LIMITS, percentile, runBench, startBenchDb, startServer, type Row } from './lib.js'
import { agentPost, makeSessions, post, pushLatencies, staffToken, steadySenders, widgetSocketUrl } from './sockets.js'

const SOCKETS = (process.env.BENCH_SOCKETS ?? '1000,10000').split(',').map(Number)
const RATE_PER_S = 50
const VISITORS = 200
const VISITOR_RATE_PER_S = 50
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 26)
// a fresh server process (JIT, prepared statements) and fresh client connections, not counted
const WARMUP_S = 3
const TARGET_P99_MS = (n: number) => (n <= 1000 ? 20 : 100)

await runBench('push', async () => {
  const db = await startBenchDb()
  try {
    const site = await createBenchSite(db)
    const sessions = await makeSessions(db.handle.db, site.id, Math.max(...SOCKETS))
    // a live database of this size has statistics: plan as it would, not as on an empty table
    await db.handle.db.execute(sql`analyze`)
    const rows: Row[] = []
    for (const n of SOCKETS) {
      const app = await startServer('serve-app.ts', { BENCH_DB_URL: db.url, ...HIGH_LIMITS, DB_POOL_SIZE: '20' })
      const jwt = await staffToken(app.port, db.handle.db)
      const ours = await pushLatencies(n, RATE_PER_S, DURATION_S, {
        socketUrl: (i) => widgetSocketUrl(app.port, site.apiKey, sessions[i]),
        post: (i, text) => agentPost(app.port, jwt, sessions[i]?.id, text),
        firstMeasured: VISITORS,
        warmupS: WARMUP_S,
        // the server sends each socket its session status after its backlog
        ready: (frame) => frame.type === 'session',
        background: () => steadySenders(VISITORS, VISITOR_RATE_PER_S, (i, k) => post(
          `http://127.0.0.1:${app.port}/api/public/chat/sessions/${sessions[i]?.id}/messages`,
          { 'x-api-key': site.apiKey, 'x-session-token': sessions[i]?.token ?? '' }, JSON.stringify({ text: `visitor ${k}` }))),
      })
      await app.stop()
      const bare = await startServer('serve-ws-baseline.ts', {})
      const frame = (i: number, text: string) => JSON.stringify({ type: 'message', message: { id: crypto.randomUUID(), sessionId: sessions[i]?.id, seq: 1, sender: 'agent', senderName: 'Bench Agent', text, createdAt: new Date().toISOString() } })
      const baseline = await pushLatencies(n, RATE_PER_S, DURATION_S, {
        socketUrl: (i) => `ws://127.0.0.1:${bare.port}/ws/${sessions[i]?.id}`,
        post: (i, text) => post(`http://127.0.0.1:${bare.port}/send/${sessions[i]?.id}`, {}, frame(i, text)),
        firstMeasured: VISITORS,
        warmupS: WARMUP_S,
        background: () => steadySenders(VISITORS, VISITOR_RATE_PER_S, (i, k) => post(`http://127.0.0.1:${bare.port}/send/${sessions[i]?.id}`, {}, frame(i, `visitor ${k}`))),
      })
      await bare.stop()
      rows.push({ name: `${n} sockets, p50`, value: percentile(ours, 50), baseline: percentile(baseline, 50), baselineName: 'bare ws', unit: 'ms' })
      rows.push({ name: `${n} sockets, p99`, value: percentile(ours, 99), baseline: percentile(baseline, 99), baselineName: 'bare ws', unit: 'ms', target: { op: '≤', value: TARGET_P99_MS(n), unit: 'ms' } })
    }
    return {
      title: `push: agent POST → visitor frame, ${RATE_PER_S} replies/s for ${DURATION_S} s while ${VISITORS} visitors write ${VISITOR_RATE_PER_S} msg/s`,
      rows,
      note: 'Ours: HTTP reply stored (Postgres commit) → bus → hub → socket, heartbeats on (25 s). Baseline: HTTP POST → bare ws send, no database, no heartbeats.',
    }
  } finally {
    await db.stop()
  }
})
