/**
 * poll: GET .../messages?since= with key + token under autocannon -c 100, against a bare
 * Fastify + postgres.js route doing the same indexed SELECT without auth (same run).
 */
import autocannon from 'autocannon'
import { createSite } from '../src/chat/sites.js'
import { sendMessage, type Message } from '../src/chat/messages.js'
import { startSession } from '../src/chat/session-start.js'
import { HIGH_LIMITS, printTable, SETUP_EVENTS, SETUP_OWNS, startBenchDb, startServer, type Row, benchSecretBox } from './lib.js'

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10)
const CONNECTIONS = 100
const HISTORY = 50
const NEW_SINCE = 5 // the poll asks for the last few messages, as a live widget does

async function load(url: string, headers: Record<string, string>) {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, headers })
  return { rps: r.requests.average, p99: r.latency.p99, non2xx: r.non2xx, total: r.requests.total }
}

const db = await startBenchDb()
try {
  const { site } = await createSite(db.handle.db, benchSecretBox, { name: 'bench', origins: ['*'] })
  const { session } = await startSession(db.handle.db, SETUP_EVENTS, site, { userSessionId: 'bench-visitor' }, SETUP_OWNS)
  const sent: Message[] = []
  for (let i = 0; i < HISTORY; i++) sent.push((await sendMessage(db.handle.db, SETUP_EVENTS, { sessionId: session.id, sender: i % 2 ? 'agent' : 'visitor', senderName: null, text: `message ${i} `.repeat(8) })).message)
  const since = sent[HISTORY - NEW_SINCE - 1]?.createdAt.toISOString() ?? ''

  const appServer = await startServer('serve-app.ts', { BENCH_DB_URL: db.url, ...HIGH_LIMITS })
  const tokenRes = await fetch(`http://127.0.0.1:${appServer.port}/api/public/chat/sessions`, {
    method: 'POST', headers: { 'x-api-key': site.apiKey, 'content-type': 'application/json' }, body: JSON.stringify({ userSessionId: 'bench-visitor' }),
  })
  const token = ((await tokenRes.json()) as { data: { token: string } }).data.token
  const pollPath = `/api/public/chat/sessions/${session.id}/messages?since=${encodeURIComponent(since)}`
  const auth = { 'x-api-key': site.apiKey, 'x-session-token': token }
  const ours = await load(`http://127.0.0.1:${appServer.port}${pollPath}`, auth)
  await appServer.stop()

  const base = await startServer('serve-baseline.ts', { BENCH_DB_URL: db.url })
  const baseline = await load(`http://127.0.0.1:${base.port}/poll/${session.id}?since=${encodeURIComponent(since)}`, {})
  await base.stop()

  const limited = await startServer('serve-app.ts', { BENCH_DB_URL: db.url })
  const withDefaultLimiter = await load(`http://127.0.0.1:${limited.port}${pollPath}`, auth)
  await limited.stop()

  const rows: Row[] = [
    { name: 'req/s (limits raised)', value: ours.rps, baseline: baseline.rps, unit: 'req/s', target: '≥ 0.85×' },
    { name: 'p99 latency', value: ours.p99, baseline: baseline.p99, unit: 'ms' },
    { name: 'req/s, default limiter on', value: withDefaultLimiter.rps, baseline: baseline.rps, unit: 'req/s', target: 'report' },
  ]
  printTable(`poll: autocannon -c ${CONNECTIONS}, ${DURATION_S} s each, ${NEW_SINCE} new messages per answer`, rows,
    `Errors: ours ${ours.non2xx} non-2xx of ${ours.total}; baseline ${baseline.non2xx}; with the default limiter ${withDefaultLimiter.non2xx} of ${withDefaultLimiter.total} were 429 (all from one key+IP).`)
} finally {
  await db.stop()
}
