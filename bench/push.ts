/**
 * push: an agent's POST → the visitor's socket frame, p50/p99, with 1,000 and 10,000 open
 * widget sockets and 50 messages/s offered (open loop), against a bare `ws` server that
 * sends the same frame when POSTed to (same run, same client process).
 */
import { createSite } from '../src/chat/sites.js'
import { HIGH_LIMITS, percentile, printTable, startBenchDb, startServer, type Row, benchSecretBox } from './lib.js'
import { agentPost, makeSessions, pushLatencies, staffToken, widgetSocketUrl } from './sockets.js'

const SOCKETS = (process.env.BENCH_SOCKETS ?? '1000,10000').split(',').map(Number)
const RATE_PER_S = 50
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10)

const db = await startBenchDb()
try {
  const { site } = await createSite(db.handle.db, benchSecretBox, { name: 'bench', origins: ['*'] })
  const sessions = await makeSessions(db.handle.db, site.id, Math.max(...SOCKETS))
  const rows: Row[] = []
  for (const n of SOCKETS) {
    const app = await startServer('serve-app.ts', { BENCH_DB_URL: db.url, ...HIGH_LIMITS, DB_POOL_SIZE: '20' })
    const jwt = await staffToken(app.port, db.handle.db)
    const ours = await pushLatencies(n, RATE_PER_S, DURATION_S, {
      socketUrl: (i) => widgetSocketUrl(app.port, site.apiKey, sessions[i]),
      post: (i, text) => agentPost(app.port, jwt, sessions[i]?.id, text),
    })
    await app.stop()
    const bare = await startServer('serve-ws-baseline.ts', {})
    const baseline = await pushLatencies(n, RATE_PER_S, DURATION_S, {
      socketUrl: (i) => `ws://127.0.0.1:${bare.port}/ws/${sessions[i]?.id}`,
      post: async (i, text) => {
        const frame = JSON.stringify({ type: 'message', message: { id: crypto.randomUUID(), sessionId: sessions[i]?.id, seq: 1, sender: 'agent', senderName: 'Bench Agent', text, createdAt: new Date().toISOString() } })
        const res = await fetch(`http://127.0.0.1:${bare.port}/send/${sessions[i]?.id}`, { method: 'POST', body: frame })
        await res.arrayBuffer()
      },
    })
    await bare.stop()
    rows.push({ name: `${n} sockets, p50`, value: percentile(ours, 50), baseline: percentile(baseline, 50), unit: 'ms' })
    rows.push({ name: `${n} sockets, p99`, value: percentile(ours, 99), baseline: percentile(baseline, 99), unit: 'ms', target: n <= 1000 ? 'p99 ≤ 20 ms' : 'p99 ≤ 100 ms' })
  }
  printTable(`push: agent POST → visitor frame, ${RATE_PER_S} msg/s offered for ${DURATION_S} s`, rows,
    'Ours: HTTP reply stored (Postgres commit) → NOTIFY → hub → socket. Baseline: HTTP POST → bare ws send, no database.')
} finally {
  await db.stop()
}
