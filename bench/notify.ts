/**
 * notify: the write path's options, as plain postgres.js loops on one database, msgs/s at
 * concurrency 1, 8, 32 (each client writes its own session):
 *   in-tx      UPDATE + INSERT + pg_notify in one transaction (Postgres takes its global
 *              notify lock at commit and holds it across the WAL flush)
 *   none       the same writes without NOTIFY (the ceiling)
 *   after      the writes commit, then pg_notify in its own statement
 *   batched    the writes commit, then one pg_notify per tick carries every event of the tick
 * Baseline for the ratios: in-tx.
 */
import postgres from 'postgres'
import { startSession } from '../src/chat/session-start.js'
import type { Session } from '../src/chat/sessions.js'
import { createBenchSite, SETUP_OWNS, runBench, SETUP_EVENTS, sleep, startBenchDb, type Row } from './lib.js'

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5)
const CONCURRENCY = [1, 8, 32]
const TICK_MS = 2
type Mode = 'in-tx' | 'none' | 'after' | 'batched'

await runBench('notify', async () => {
const db = await startBenchDb()
try {
  const site = await createBenchSite(db)
  const sessions: Session[] = []
  for (let i = 0; i < 32; i++) sessions.push((await startSession(db.handle.db, SETUP_EVENTS, site, { userSessionId: `bench-visitor-${i}` }, SETUP_OWNS)).session)

  async function run(mode: Mode, concurrency: number): Promise<number> {
    const sql = postgres(db.url, { max: concurrency + 1, onnotice: () => {} })
    const pending: string[] = []
    let stop = false
    const flusher = (async () => {
      while (!stop || pending.length) {
        // NOTIFY payloads are capped at 8000 bytes: ~110-byte events, 50 per notification
        if (pending.length) await sql`select pg_notify('chat_events', ${'[' + pending.splice(0, 50).join(',') + ']'})`
        else await sleep(TICK_MS)
      }
    })()
    let count = 0
    const deadline = Date.now() + DURATION_S * 1000
    await Promise.all(sessions.slice(0, concurrency).map(async (s) => {
      while (Date.now() < deadline) {
        const event = JSON.stringify({ k: 'message', site: site.id, session: s.id })
        const write = sql`with claimed as (
            update chat_sessions set last_seq = last_seq + 1,
              last_message_at = greatest(date_trunc('milliseconds', statement_timestamp()), last_message_at + interval '1 millisecond')
            where id = ${s.id} and status = 'open' returning id, site_id, last_seq, last_message_at)
          insert into chat_messages (site_id, session_id, seq, sender, text, created_at)
          select site_id, id, last_seq, 'visitor', 'Hello, how much is delivery?', last_message_at from claimed`
        if (mode === 'in-tx') await sql.begin((tx) => [tx`${write}`, tx`select pg_notify('chat_events', ${event})`])
        else await write
        if (mode === 'after') await sql`select pg_notify('chat_events', ${event})`
        if (mode === 'batched') pending.push(event)
        count++
      }
    }))
    stop = true
    await flusher
    await sql.end()
    return count / DURATION_S
  }

  const rows: Row[] = []
  for (const c of CONCURRENCY) {
    const inTx = await run('in-tx', c)
    for (const mode of ['none', 'after', 'batched'] as const) {
      rows.push({ name: `c=${c} ${mode}`, value: await run(mode, c), baseline: inTx, baselineName: 'NOTIFY in the transaction', unit: 'msg/s' })
    }
  }
  return { title: `notify: write-path options vs NOTIFY inside the transaction, ${DURATION_S} s per figure`, rows }
} finally {
  await db.stop()
}
})
