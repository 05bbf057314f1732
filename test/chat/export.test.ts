import t from 'tap'
import { exportSessionsNdjson } from '../../src/chat/export.js'
import { connectDb } from '../../src/db/client.js'
import { freshDatabase } from '../helpers/app.js'

const MESSAGES = 20_000

/** Settles with the promise, or fails after `ms`: a connection never given back shows as a wait. */
const within = <T>(ms: number, p: Promise<T>) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms).unref())])

t.test('a site export streams on a connection of its own and gives it back when stopped midway', async (t) => {
  // the smallest pool: any connection the export kept, or shared while its COPY streams, shows
  const { db, sql, close } = connectDb(await freshDatabase(), { poolSize: 2 })
  t.teardown(close)
  const [site] = await sql<{ id: string }[]>`insert into sites (name, api_key, api_secret_hash) values ('Shop', 'pk_export_test', 'x') returning id`
  const siteId = site?.id ?? ''
  const [big] = await sql<{ id: string }[]>`
    insert into chat_sessions (site_id, user_session_id, status, last_seq) values (${siteId}, 'big', 'closed', ${MESSAGES}) returning id`
  await sql`insert into chat_sessions (site_id, user_session_id, status, created_at) values (${siteId}, 'later', 'open', now() + interval '1 minute')`
  // far more than a socket read, so the COPY is still streaming (and paused) after a few chunks
  await sql`insert into chat_messages (site_id, session_id, seq, sender, text, created_at)
    select ${siteId}, ${big?.id ?? ''}, g, 'visitor', repeat('x', 400) || g, now() + g * interval '1 millisecond' from generate_series(1, ${MESSAGES}::int) g`

  const stopped = exportSessionsNdjson(db, { siteId })[Symbol.asyncIterator]()
  for (let i = 0; i < 4; i++) t.notOk((await stopped.next()).done)
  // postgres.js would send some of these to the connection busy with the COPY, and fail them
  // with COPY_IN_PROGRESS, were it the pool's
  const answers = await within(10_000, Promise.all(Array.from({ length: 6 }, (_, i) => sql<{ n: number }[]>`select ${i}::int as n`)))
  t.same(answers.map((rows) => rows[0]?.n), [0, 1, 2, 3, 4, 5], 'other queries run while the export streams')
  await within(10_000, stopped.return(undefined))
  const both = await within(10_000, Promise.all([sql.reserve(), sql.reserve()]))
  for (const connection of both) connection.release()
  t.pass('the stopped export gave its connection back')

  const chunks: Buffer[] = []
  for await (const chunk of exportSessionsNdjson(db, { siteId })) chunks.push(Buffer.from(chunk))
  const lines = Buffer.concat(chunks).toString('utf8').split('\n')
  t.equal(lines.pop(), '', 'every line ends with a newline')
  const parsed = lines.map((l) => JSON.parse(l) as { session: { userSessionId: string }; messages: { seq: number; text: string }[]; notes: unknown[] })
  t.same(parsed.map((l) => l.session.userSessionId), ['big', 'later'])
  t.same(parsed[0]?.messages.map((m) => m.seq), Array.from({ length: MESSAGES }, (_, i) => i + 1), 'every message once, in order')
  t.equal(parsed[0]?.messages[MESSAGES - 1]?.text, `${'x'.repeat(400)}${MESSAGES}`)
  t.same(parsed[1]?.messages, [], 'a session without messages')
})
