/**
 * send: visitor POST .../messages, msgs/s at concurrency 1, 8 and 32 (each client writes
 * its own session, as visitors do), against postgres.js loops doing the same writes in the
 * same run: (a) with NOTIFY in the transaction, (b) without NOTIFY.
 */
import autocannon from 'autocannon'
import postgres from 'postgres'
import { createSite } from '../src/chat/sites.js'
import { startSession } from '../src/chat/session-start.js'
import { HIGH_LIMITS, printTable, SETUP_EVENTS, SETUP_OWNS, startBenchDb, startServer, type Row, benchSecretBox } from './lib.js'

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 8)
const CONCURRENCY = [1, 8, 32]
const TEXT = 'Hello, I would like to know the price of delivery to Kyiv, please.'

const db = await startBenchDb()
try {
  const { site } = await createSite(db.handle.db, benchSecretBox, { name: 'bench', origins: ['*'] })
  const maxC = Math.max(...CONCURRENCY)
  const sessions: Awaited<ReturnType<typeof startSession>>["session"][] = []
  for (let i = 0; i < maxC; i++) sessions.push((await startSession(db.handle.db, SETUP_EVENTS, site, { userSessionId: `bench-visitor-${i}` }, SETUP_OWNS)).session)

  /** Same statements as the app's write path, in a transaction, through a plain pool. */
  async function sqlLoop(concurrency: number, withNotify: boolean): Promise<number> {
    const sql = postgres(db.url, { max: concurrency, onnotice: () => {} })
    let count = 0
    const deadline = Date.now() + DURATION_S * 1000
    await Promise.all(sessions.slice(0, concurrency).map(async (s) => {
      while (Date.now() < deadline) {
        await sql.begin(async (tx) => {
          const [row] = await tx`update chat_sessions set last_seq = last_seq + 1,
              last_message_at = greatest(date_trunc('milliseconds', clock_timestamp()), last_message_at + interval '1 millisecond')
            where id = ${s.id} and status = 'open' returning last_seq, last_message_at`
          await tx`insert into chat_messages (session_id, seq, sender, text, created_at) values (${s.id}, ${row?.last_seq}, 'visitor', ${TEXT}, ${row?.last_message_at})`
          if (withNotify) await tx`select pg_notify('chat_events', ${JSON.stringify({ k: 'message', site: site.id, session: s.id, seq: row?.last_seq })})`
        })
        count++
      }
    }))
    await sql.end()
    return count / DURATION_S
  }

  const server = await startServer('serve-app.ts', { BENCH_DB_URL: db.url, ...HIGH_LIMITS, DB_POOL_SIZE: '32' })
  const tokens = new Map<string, string>()
  for (const s of sessions) {
    const res = await fetch(`http://127.0.0.1:${server.port}/api/public/chat/sessions`, {
      method: 'POST', headers: { 'x-api-key': site.apiKey, 'content-type': 'application/json' }, body: JSON.stringify({ userSessionId: s.userSessionId }),
    })
    tokens.set(s.id, ((await res.json()) as { data: { token: string } }).data.token)
  }
  async function httpLoad(concurrency: number): Promise<number> {
    // one autocannon client per session, so each connection writes its own conversation
    const results = await Promise.all(sessions.slice(0, concurrency).map((s) => autocannon({
      url: `http://127.0.0.1:${server.port}/api/public/chat/sessions/${s.id}/messages`,
      method: 'POST',
      connections: 1,
      duration: DURATION_S,
      headers: { 'x-api-key': site.apiKey, 'x-session-token': tokens.get(s.id) ?? '', 'content-type': 'application/json' },
      body: JSON.stringify({ text: TEXT }),
    })))
    const non2xx = results.reduce((n, r) => n + r.non2xx, 0)
    if (non2xx) console.warn(`warning: ${non2xx} non-2xx answers at concurrency ${concurrency}`)
    return results.reduce((n, r) => n + r.requests.total - r.non2xx, 0) / DURATION_S
  }

  const rows: Row[] = []
  for (const c of CONCURRENCY) {
    const ours = await httpLoad(c)
    const withNotify = await sqlLoop(c, true)
    const withoutNotify = await sqlLoop(c, false)
    rows.push({ name: `c=${c} vs (a) SQL with NOTIFY`, value: ours, baseline: withNotify, unit: 'msg/s', target: '≥ 0.8×' })
    rows.push({ name: `c=${c} vs (b) SQL without NOTIFY`, value: ours, baseline: withoutNotify, unit: 'msg/s', target: c === 32 ? '≥ 0.5×' : '' })
  }
  await server.stop()
  printTable(`send: visitor messages, ${DURATION_S} s per figure`, rows, 'HTTP through the whole app (auth, validation, rate limiter, JSON) vs bare SQL loops on the same database.')
} finally {
  await db.stop()
}
