/**
 * poll: GET .../messages?since= with key + token under autocannon -c 100, against a bare
 * Fastify + postgres.js route doing the same indexed SELECT without auth (same run). Both
 * servers run side by side and take turns in short rounds (the order flipping each round):
 * on a shared machine one long run each put whatever else ran at that moment on one side only.
 */
import autocannon from 'autocannon'
import { sendMessage, type Message } from '../src/chat/messages.js'
import { makeSessions } from './sockets.js'
import { createBenchSite, fail, HIGH_LIMITS, runBench, SETUP_EVENTS, startBenchDb, startServer, type Row } from './lib.js'

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10)
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5))
const ROUND_S = Math.max(1, Math.round(DURATION_S / ROUNDS))
const WARM_UP_S = 1
const CONNECTIONS = 100
const HISTORY = 50
const NEW_SINCE = 5 // the poll asks for the last few messages, as a live widget does

async function load(url: string, headers: Record<string, string>, mustSucceed = true, duration = DURATION_S) {
  const r = await autocannon({ url, connections: CONNECTIONS, duration, headers })
  if (mustSucceed && (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0)) fail(`${url}: ${r.non2xx} non-2xx answers, ${r.errors} errors, ${r.timeouts} timeouts of ${r.requests.total}`)
  return { rps: r.requests.average, p99: r.latency.p99, non2xx: r.non2xx, total: r.requests.total, seconds: r.duration }
}

type Contender = { url: string; headers: Record<string, string>; total: number; seconds: number; p99s: number[] }

/** Rounds of ROUND_S each, the contenders taking turns; req/s over all rounds, p99 the median round's. */
async function takeTurns(contenders: Contender[]): Promise<void> {
  for (const c of contenders) await load(c.url, c.headers, true, WARM_UP_S)
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of round % 2 ? [...contenders].reverse() : contenders) {
      const r = await load(c.url, c.headers, true, ROUND_S)
      c.total += r.total
      c.seconds += r.seconds
      c.p99s.push(r.p99)
    }
  }
}
const rate = (c: Contender) => c.total / c.seconds
const medianP99 = (c: Contender) => [...c.p99s].sort((a, b) => a - b)[Math.floor(c.p99s.length / 2)] ?? 0

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
  const base = await startServer('serve-baseline.ts', { BENCH_DB_URL: db.url })
  const pollPath = `/api/public/chat/sessions/${session.id}/messages?since=${encodeURIComponent(since)}`
  const auth = { 'x-api-key': site.apiKey, 'x-session-token': session.token }
  const ours: Contender = { url: `http://127.0.0.1:${appServer.port}${pollPath}`, headers: auth, total: 0, seconds: 0, p99s: [] }
  const baseline: Contender = { url: `http://127.0.0.1:${base.port}/poll/${session.id}?since=${encodeURIComponent(since)}`, headers: {}, total: 0, seconds: 0, p99s: [] }
  try {
    await takeTurns([ours, baseline])
  } finally {
    await appServer.stop()
    await base.stop()
  }

  const limited = await startServer('serve-app.ts', { BENCH_DB_URL: db.url })
  const withDefaultLimiter = await load(`http://127.0.0.1:${limited.port}${pollPath}`, auth, false)
  await limited.stop()

  const rows: Row[] = [
    { name: 'req/s (limits raised)', value: rate(ours), baseline: rate(baseline), baselineName: 'bare route, one select, no auth', unit: 'req/s', target: { op: '≥', ratio: 0.85 } },
    { name: 'p99 latency (median round)', value: medianP99(ours), baseline: medianP99(baseline), unit: 'ms' },
    { name: 'req/s, default limiter on', value: withDefaultLimiter.rps, baseline: rate(baseline), unit: 'req/s' },
  ]
  return {
    title: `poll: autocannon -c ${CONNECTIONS}, ${ROUNDS} alternating rounds of ${ROUND_S} s each, ${NEW_SINCE} new messages per answer`,
    rows,
    note: `With the default limiter ${withDefaultLimiter.non2xx} of ${withDefaultLimiter.total} answers were 429 (all from one key+IP), as they should.`,
  }
} finally {
  await db.stop()
}
})
