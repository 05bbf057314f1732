/**
 * cross: latency of a reply stored on instance A reaching a widget socket on instance B,
 * against the same with the socket on A (same run, same database).
 */
import { createSite } from '../src/chat/sites.js'
import { HIGH_LIMITS, percentile, printTable, startBenchDb, startServer, benchSecretBox } from './lib.js'
import { agentPost, makeSessions, pushLatencies, staffToken, widgetSocketUrl } from './sockets.js'

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 500)
const RATE_PER_S = 50
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10)

const db = await startBenchDb()
try {
  const { site } = await createSite(db.handle.db, benchSecretBox, { name: 'bench', origins: ['*'] })
  const sessions = await makeSessions(db.handle.db, site.id, SOCKETS)
  const a = await startServer('serve-app.ts', { BENCH_DB_URL: db.url, ...HIGH_LIMITS })
  const b = await startServer('serve-app.ts', { BENCH_DB_URL: db.url, ...HIGH_LIMITS })
  const jwt = await staffToken(a.port, db.handle.db)
  const post = (i: number, text: string) => agentPost(a.port, jwt, sessions[i]?.id, text)
  const same = await pushLatencies(SOCKETS, RATE_PER_S, DURATION_S, { socketUrl: (i) => widgetSocketUrl(a.port, site.apiKey, sessions[i]), post })
  const cross = await pushLatencies(SOCKETS, RATE_PER_S, DURATION_S, { socketUrl: (i) => widgetSocketUrl(b.port, site.apiKey, sessions[i]), post })
  await a.stop()
  await b.stop()
  printTable(`cross: store on A, socket on B (baseline: socket on A), ${SOCKETS} sockets, ${RATE_PER_S} msg/s`, [
    { name: 'p50', value: percentile(cross, 50), baseline: percentile(same, 50), unit: 'ms' },
    { name: 'p99', value: percentile(cross, 99), baseline: percentile(same, 99), unit: 'ms', target: '≤ 1.5×' },
  ])
} finally {
  await db.stop()
}
