/**
 * pollers: how many widgets polling every 2 s (each its own session and connection, with
 * `since`) one instance serves with p99 < 100 ms. Steps up the number of pollers.
 */
import autocannon from 'autocannon'
import { createSite } from '../src/chat/sites.js'
import { HIGH_LIMITS, startBenchDb, startServer } from './lib.js'
import { makeSessions } from './sockets.js'

const STEPS = (process.env.BENCH_STEPS ?? '500,1000,2000,4000,8000').split(',').map(Number)
const STEP_S = Number(process.env.BENCH_DURATION_S ?? 10)
const POLL_EVERY_S = 2
const P99_LIMIT_MS = 100

const db = await startBenchDb()
try {
  const { site } = await createSite(db.handle.db, { name: 'bench', origins: ['*'] })
  const sessions = await makeSessions(db.handle.db, site.id, Math.max(...STEPS))
  const app = await startServer('serve-app.ts', { BENCH_DB_URL: db.url, ...HIGH_LIMITS })
  const since = new Date().toISOString()
  console.log('\n### pollers: widgets polling every 2 s, one instance\n')
  console.log('| pollers | offered req/s | served req/s | p50 | p99 | within 100 ms |')
  console.log('| --- | --- | --- | --- | --- | --- |')
  let best = 0
  for (const n of STEPS) {
    let next = 0
    const r = await autocannon({
      url: `http://127.0.0.1:${app.port}`,
      connections: n,
      overallRate: n / POLL_EVERY_S,
      duration: STEP_S,
      requests: [{
        setupRequest: (req) => {
          const s = sessions[next++ % n]
          return { ...req, method: 'GET', path: `/api/public/chat/sessions/${s?.id}/messages?since=${encodeURIComponent(since)}`, headers: { 'x-api-key': site.apiKey, 'x-session-token': s?.token ?? '' } }
        },
      }],
    })
    const ok = r.latency.p99 < P99_LIMIT_MS && r.non2xx === 0
    if (ok) best = n
    console.log(`| ${n} | ${n / POLL_EVERY_S} | ${r.requests.average.toFixed(0)} | ${r.latency.p50} ms | ${r.latency.p99} ms | ${ok ? 'yes' : 'no'} |`)
    if (!ok) break
  }
  console.log(`\nOne instance serves ${best} pollers (every ${POLL_EVERY_S} s) with p99 < ${P99_LIMIT_MS} ms.`)
  await app.stop()
} finally {
  await db.stop()
}
