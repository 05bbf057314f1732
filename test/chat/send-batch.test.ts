import postgres from 'postgres'
import t from 'tap'
import { sendMessage } from '../../src/chat/messages.js'
import { closeSession } from '../../src/chat/sessions.js'
import { createSite } from '../../src/chat/sites.js'
import { createWebhook } from '../../src/outbox/webhooks.js'
import { buildTestApp } from '../helpers/app.js'
import { countingDb } from '../helpers/counting-db.js'
import { makeSession, makeSite, poll, sendRequest, uniq, type TestSite } from '../helpers/fixtures.js'
import { waitFor } from '../helpers/wait.js'

// Group commit of sends (chat/message-append-batch.ts): concurrent sends on the pool share one statement.

const noEvents = { publish: () => {} }
// texts a hand-made array literal would get wrong
const awkward = ['a, b', '{braces}', 'say "hi"', 'back\\slash', 'NULL', ' spaced ', 'line\nbreak', 'кирилиця 🙂']

/** The backend of this test database's batch statement that waits for a row lock (other test files run beside it). */
async function waitingBatch(app: { db: { $client: postgres.Sql } }): Promise<number | undefined> {
  const rows = await app.db.$client<{ pid: number }[]>`
    select pid from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like '%unnest%'`
  return rows.length === 1 ? rows[0]?.pid : undefined
}

t.test('concurrent sends over many sessions: each stored once, in order, with its outbox rows, each caller answered with its own', async (t) => {
  const app = await buildTestApp(t, { env: { OUTBOX_DELIVERY: 'false' } })
  const { site: row, apiSecret } = await createSite(app.db, app.secretBox, {
    name: uniq('site-'), origins: ['https://shop.example'], telegramBotToken: '123456:test-token', telegramChatId: '-100123',
  })
  await createWebhook(app.db, app.secretBox, { allowPrivate: true }, row.id, 'https://hooks.example/chat', ['message.created'])
  const site: TestSite = { id: row.id, apiKey: row.apiKey, apiSecret }
  const sessions = await Promise.all(Array.from({ length: 12 }, () => makeSession(app, site)))
  const closed = await makeSession(app, site)
  await closeSession(app.db, app.bus, closed.id)
  // replies to visitors who left an email and went away two minutes ago: each also queues its offline email
  const staffSessions = await Promise.all(Array.from({ length: 3 }, () => makeSession(app, site, { email: 'olena@example.com' })))
  await app.db.$client`update chat_sessions set visitor_seen_at = now() - interval '2 minutes' where id = any(${staffSessions.map((s) => s.id)}::uuid[])`
  const offlineEmail = { visitorAwayMs: 60_000, batchMs: 60_000 }
  const elsewhere = await makeSession(app, await makeSite(app))

  // session i gets 1 + i % 3 sends; the first three also get one clientMessageId sent twice
  const sends = sessions.flatMap((s, i) => Array.from({ length: 1 + (i % 3) }, (_, j) => ({ s, text: `${awkward[(i + j) % awkward.length]} #${i}.${j}`, id: uniq('c-') })))
  const twice = sessions.slice(0, 3).map((s, i) => ({ s, text: `twice ${i}`, id: uniq('d-') }))
  const all = [...sends, ...twice, ...twice, { s: closed, text: 'too late', id: uniq('z-') }]
  const visitorAnswers = all.map(({ s, text, id }) => app.inject(sendRequest(s, { text, clientMessageId: id })))
  const staffSends = [...staffSessions, elsewhere].map((s, i) => sendMessage(app.db, app.bus, { sessionId: s.id, scope: [site.id], sender: 'agent', senderName: 'Olena', text: `reply ${i}`, offlineEmail })
    .then((r) => r.message.text, (err: { status?: number }) => err.status))
  const answers = await Promise.all(visitorAnswers)
  t.same(await Promise.all(staffSends), ['reply 0', 'reply 1', 'reply 2', 404], 'the other site\'s session is not found')

  answers.slice(0, sends.length).forEach((res, k) => {
    t.equal(res.statusCode, 201)
    t.match(res.json().data.message, { sessionId: sends[k]?.s.id, text: sends[k]?.text, clientMessageId: sends[k]?.id })
  })
  const dup = answers.slice(sends.length, sends.length + 2 * twice.length)
  twice.forEach((d, i) => {
    const pair = [dup[i], dup[i + twice.length]]
    t.same(pair.map((r) => r?.statusCode).sort(), [200, 201], 'one stored, one answered with it')
    t.same(pair.map((r) => r?.json().data.message.text), [d.text, d.text])
    t.equal(pair[0]?.json().data.message.id, pair[1]?.json().data.message.id)
  })
  t.equal(answers.at(-1)?.statusCode, 409, 'the closed session refuses')

  let stored = 0
  for (const [i, s] of sessions.entries()) {
    const messages = await poll(app, s)
    const expected = [...sends.filter((m) => m.s === s), ...twice.filter((m) => m.s === s)].map((m) => m.text)
    t.same(messages.map((m) => m.text).sort(), expected.sort(), `session ${i}: every message once`)
    t.same(messages.map((m) => m.seq), expected.map((_, k) => k + 1), 'seqs 1..n without gaps')
    t.ok(messages.every((m, k) => k === 0 || m.createdAt > (messages[k - 1]?.createdAt ?? '')), 'createdAt strictly increasing')
    stored += messages.length
  }
  const sessionIds = sessions.map((s) => s.id)
  const counts = await app.db.$client<{ outbox: number; unread: number; lastSeq: number }[]>`
    select (select count(*)::int from outbox where session_id = any(${sessionIds}::uuid[]) and kind = 'message.created') as outbox,
      (select sum(unread_count)::int from chat_sessions where id = any(${sessionIds}::uuid[])) as unread,
      (select sum(last_seq)::int from chat_sessions where id = any(${sessionIds}::uuid[])) as "lastSeq"`
  t.same(counts[0], { outbox: 2 * stored, unread: stored, lastSeq: stored }, 'a webhook and a Telegram row per message; unread and lastSeq count each once')
  const staffIds = staffSessions.map((s) => s.id)
  const replied = await app.db.$client<{ n: number; emails: number }[]>`
    select count(*)::int as n, (select count(*)::int from outbox where session_id = any(${staffIds}::uuid[]) and channel = 'email' and kind = 'offline.replies') as emails
    from chat_sessions where id = any(${staffIds}::uuid[]) and first_response_at is not null and email_batch_until is not null and last_seq = 1`
  t.same(replied[0], { n: 3, emails: 3 }, 'each reply claimed its session, set first_response_at, opened an email batch and queued its email')
})

t.test('sends arriving while others run share one statement', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const sessions = await Promise.all(Array.from({ length: 10 }, () => makeSession(app, site)))
  const { db, counter } = await countingDb(t, 4)
  const sent = await Promise.all(sessions.map((s, i) => sendMessage(db, noEvents, { sessionId: s.id, sender: 'visitor', text: `m${i}`, clientMessageId: `b-${i}` })))
  t.ok(counter.queries < sessions.length, `${sessions.length} sends in ${counter.queries} statements`)
  t.same(sent.map((r) => [r.created, r.message.sessionId, r.message.text, r.message.seq]), sessions.map((s, i) => [true, s.id, `m${i}`, 1]))
})

t.test('a send waiting for its session\'s row lock (a long transaction) does not hold up the sends of other sessions', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const [held, free] = await Promise.all([makeSession(app, site), makeSession(app, site)])
  const { db } = await countingDb(t, 4)
  const writer = await app.db.$client.reserve()
  t.teardown(() => writer.release())
  await writer`begin`
  await writer`select id from chat_sessions where id = ${held.id} for update`
  const waiting = sendMessage(db, noEvents, { sessionId: held.id, sender: 'visitor', text: 'held' })
  const other = sendMessage(db, noEvents, { sessionId: free.id, sender: 'visitor', text: 'free' })
  const first = await Promise.race([other.then(() => 'stored'), new Promise((resolve) => setTimeout(resolve, 5000, 'still waiting'))])
  t.equal(first, 'stored', 'the other session\'s send is stored while the first still waits')
  await writer`commit`
  t.same([(await waiting).message.seq, (await other).message.seq], [1, 1])
})

t.test('a send that fails in a batch fails alone: a duplicate clientMessageId gets the stored message, the others are stored', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const sessions = await Promise.all(Array.from({ length: 6 }, () => makeSession(app, site)))
  const { db, counter } = await countingDb(t, 4)
  const first = await sendMessage(db, noEvents, { sessionId: sessions[3]?.id ?? '', sender: 'visitor', text: 'first', clientMessageId: 'dup' })
  const before = counter.queries
  const sent = await Promise.all(sessions.map((s, i) => sendMessage(db, noEvents, { sessionId: s.id, sender: 'visitor', text: i === 3 ? 'first' : `m${i}`, clientMessageId: i === 3 ? 'dup' : `f-${i}` })))
  t.same(sent.map((r) => r.created), [true, true, true, false, true, true])
  t.equal(sent[3]?.message.id, first.message.id)
  t.same(sent.map((r) => r.message.seq), [1, 1, 1, 1, 1, 1], 'the failed batch spent no seq')
  t.ok(counter.queries > before + sessions.length, 'a batch was tried, failed, and its sends ran alone')
})

t.test('a batch that deadlocks with another writer is retried send by send, and every send is stored', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const sessions = await Promise.all(Array.from({ length: 4 }, () => makeSession(app, site)))
  // Postgres aborts whichever waiter checks for a deadlock first once the cycle exists, and each
  // checks once, deadlock_timeout after it began to wait: at the default 1 s, a loaded machine
  // that took over a second to form the cycle let the writer check first (a 40P01 here). The
  // batch waits first; with 5 s on both sides it also checks first.
  await app.db.$client`do $$ begin execute format('alter database %I set deadlock_timeout = %L', current_database(), '5s'); end $$`
  const { db } = await countingDb(t, 4)
  // the batch will hold `first` (it locks in id order) and wait for `second`, which this transaction holds
  const [first, second] = sessions.slice(2).map((s) => s.id).sort()
  const writer = await app.db.$client.reserve()
  t.teardown(() => writer.release())
  await writer`set deadlock_timeout = '5s'`
  await writer`begin`
  await writer`select id from chat_sessions where id = ${second ?? ''} for update`
  // one send runs alone, the next three queue behind it and go as one batch
  const sent = Promise.all(sessions.map((s, i) => sendMessage(db, noEvents, { sessionId: s.id, sender: 'visitor', text: `m${i}` })))
  await waitFor('the batch to wait for the writer', () => waitingBatch(app))
  // now the writer wants `first` too: a cycle, and the batch, waiting longer, is the one Postgres aborts
  await writer`update chat_sessions set updated_at = now() where id = ${first ?? ''}`
  await writer`commit`
  t.same((await sent).map((r) => [r.created, r.message.seq]), sessions.map(() => [true, 1]))
})

t.test('a batch whose connection is lost is not run again: its sends fail, as a lone send would, and the client retries', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const sessions = await Promise.all(Array.from({ length: 4 }, () => makeSession(app, site)))
  const { db } = await countingDb(t, 4)
  const batched = sessions.slice(1).map((s) => s.id)
  const writer = await app.db.$client.reserve()
  t.teardown(() => writer.release())
  await writer`begin`
  await writer`select id from chat_sessions where id = ${batched.sort()[1] ?? ''} for update`
  // one send runs alone, the last three go as one batch, which waits for the writer
  const sent = sessions.map((s, i) => sendMessage(db, noEvents, { sessionId: s.id, sender: 'visitor', text: `m${i}` }).then(() => 'stored', (err: Error) => err.message))
  const pid = await waitFor('the batch to wait for the writer', () => waitingBatch(app))
  // a terminated backend stands for any lost connection: whether the statement committed is unknown to the sender
  await app.db.$client`select pg_terminate_backend(${pid})`
  await writer`commit`
  const answers = await Promise.all(sent)
  t.same(answers.slice(0, 1), ['stored'])
  t.ok(answers.slice(1).every((a) => a !== 'stored'), `the batch's sends fail: ${answers.slice(1).join('; ')}`)
  const seqs = await app.db.$client<{ last_seq: number }[]>`select last_seq from chat_sessions where id = any(${batched}::uuid[])`
  t.same(seqs.map((r) => r.last_seq), [0, 0, 0], 'and nothing ran them again')
})
