/**
 * poll: GET .../messages?since= with key + token under autocannon -c 100, against a bare
 * Fastify + postgres.js route doing the same indexed SELECT without auth (same run).
 */
import autocannon from 'autocannon'
import { sendMessage, type Message } from '../src/chat/messages.js'
import { makeSessions } from './sockets.js'
import { createBenchSite, fail, HIGH_LIMITS, runBench, SETUP_EVENTS, startBenchDb, startServer, type Row } from './lib.js'

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10)
const CONNECTIONS = 100
const HISTORY = 50
const NEW_SINCE = 5 // the poll asks for the last few messages, as a live widget does

async function load(url: string, headers: Record<string, string>, mustSucceed = true) {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, headers })
  if (mustSucceed && (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0)) fail(`${url}: ${r.non2xx} non-2xx answers, ${r.errors} errors, ${r.timeouts} timeouts of ${r.requests.total}`)
  return { rps: r.requests.average, p99: r.latency.p99, non2xx: r.non2xx, total: r.requests.total }
}

await runBench('poll', async () => {
const db = await startBenchDb()
try {
  const site = await createBenchSite(db)
  // the session and its token as the app issues them (resuming by visitor id needs proof)
  const [session] = await makeSessions(db.handle.db, site.id, 1)
  if (!session) fail('no bench session')
  const sent: Message[] = []
  for (let i = 0; i < HISTORY; i++) sent.push((await sendMessage(db.handle.db, SETUP_EVENTS, { sessionId: session.id, sender: i % 2 ? 'agent' : 'visitor', senderName: null, text: `message ${i} `.repeat(8) })).message)
  const since = sent[HISTORY - NEW_SINCE - 1]?.createdAt.toISOString() ?? ''

  const appServer = await startServer('serve-app.ts', { BENCH_DB_URL: db.url, ...HIGH_LIMITS })
  const pollPath = `/api/public/chat/sessions/${session.id}/messages?since=${encodeURIComponent(since)}`
  const auth = { 'x-api-key': site.apiKey, 'x-session-token': session.token }
  const ours = await load(`http://127.0.0.1:${appServer.port}${pollPath}`, auth)
  await appServer.stop()

  const base = await startServer('serve-baseline.ts', { BENCH_DB_URL: db.url })
  const baseline = await load(`http://127.0.0.1:${base.port}/poll/${session.id}?since=${encodeURIComponent(since)}`, {})
  await base.stop()

  const limited = await startServer('serve-app.ts', { BENCH_DB_URL: db.url })
  const withDefaultLimiter = await load(`http://127.0.0.1:${limited.port}${pollPath}`, auth, false)
  await limited.stop()

  const rows: Row[] = [
    { name: 'req/s (limits raised)', value: ours.rps, baseline: baseline.rps, baselineName: 'bare route, one select, no auth', unit: 'req/s', target: { op: '≥', ratio: 0.85 } },
    { name: 'p99 latency', value: ours.p99, baseline: baseline.p99, unit: 'ms' },
    { name: 'req/s, default limiter on', value: withDefaultLimiter.rps, baseline: baseline.rps, unit: 'req/s' },
  ]
  return {
    title: `poll: autocannon -c ${CONNECTIONS}, ${DURATION_S} s each, ${NEW_SINCE} new messages per answer`,
    rows,
    note: `With the default limiter ${withDefaultLimiter.non2xx} of ${withDefaultLimiter.total} answers were 429 (all from one key+IP), as they should.`,
  }
} finally {
  await db.stop()
}
})
