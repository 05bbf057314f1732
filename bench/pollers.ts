/**
 * pollers: how many widgets polling every 2 s (each its own session, with `since`) one
 * instance serves with p99 < 100 ms. Open loop: poller i fires at i·(2 s / N), then every
 * 2 s, whether or not earlier answers came back. Steps the number of pollers up.
 */
import { Agent, request } from 'undici'
import { createSite } from '../src/chat/sites.js'
import { HIGH_LIMITS, percentile, sleep, startBenchDb, startServer, benchSecretBox } from './lib.js'
import { makeSessions } from './sockets.js'

const STEPS = (process.env.BENCH_STEPS ?? '2000,4000,8000,16000,20000,24000').split(',').map(Number)
const STEP_S = Number(process.env.BENCH_DURATION_S ?? 10)
const POLL_EVERY_MS = 2000
const P99_LIMIT_MS = 100

const db = await startBenchDb()
try {
  const { site } = await createSite(db.handle.db, benchSecretBox, { name: 'bench', origins: ['*'] })
  const sessions = await makeSessions(db.handle.db, site.id, Math.max(...STEPS))
  const app = await startServer('serve-app.ts', { BENCH_DB_URL: db.url, ...HIGH_LIMITS })
  const since = encodeURIComponent(new Date().toISOString())
  const dispatcher = new Agent({ connections: 256, pipelining: 1 })
  console.log('\n### pollers: widgets polling every 2 s, one instance\n')
  console.log('| pollers | offered req/s | answered | p50 | p99 | p99 < 100 ms |')
  console.log('| --- | --- | --- | --- | --- | --- |')
  let best = 0
  for (const n of STEPS) {
    const latencies: number[] = []
    let failed = 0
    const inFlight: Promise<void>[] = []
    const begin = performance.now()
    const total = Math.floor((STEP_S * 1000) / POLL_EVERY_MS) * n
    for (let k = 0; k < total; k++) {
      const due = begin + (k * POLL_EVERY_MS) / n
      const wait = due - performance.now()
      if (wait > 1) await sleep(wait)
      const s = sessions[k % n]
      const t0 = performance.now()
      inFlight.push(request(`http://127.0.0.1:${app.port}/api/public/chat/sessions/${s?.id}/messages?since=${since}`, {
        headers: { 'x-api-key': site.apiKey, 'x-session-token': s?.token ?? '' },
        dispatcher,
      }).then(async (res) => {
        await res.body.arrayBuffer()
        if (res.statusCode === 200) latencies.push(performance.now() - t0)
        else failed++
      }, () => { failed++ }))
    }
    await Promise.all(inFlight)
    latencies.sort((a, b) => a - b)
    const p99 = percentile(latencies, 99)
    const ok = p99 < P99_LIMIT_MS && failed === 0
    if (ok) best = n
    console.log(`| ${n} | ${n / (POLL_EVERY_MS / 1000)} | ${latencies.length}/${total} | ${percentile(latencies, 50).toFixed(1)} ms | ${p99.toFixed(1)} ms | ${ok ? 'yes' : 'no'} |`)
    if (!ok) break
  }
  console.log(`\nOne instance serves ${best} widgets polling every ${POLL_EVERY_MS / 1000} s with p99 < ${P99_LIMIT_MS} ms (the load generator shares the machine's 2 cores).`)
  await dispatcher.close()
  await app.stop()
} finally {
  await db.stop()
}
