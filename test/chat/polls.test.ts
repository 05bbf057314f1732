import { randomUUID } from 'node:crypto'
import postgres from 'postgres'
import t from 'tap'
import { sendMessage } from '../../src/chat/messages.js'
import { pollMessages, type Poll } from '../../src/chat/polls.js'
import type { MessageQuery } from '../../src/chat/messages.js'
import { buildTestApp, fileDatabaseUrl, sharedTestApp } from '../helpers/app.js'
import { countingDb } from '../helpers/counting-db.js'
import { makeSession, makeSite, poll, pollRequest, sessionHeaders, type TestSession } from '../helpers/fixtures.js'
import { waitFor } from '../helpers/wait.js'

const noEvents = { publish: () => {} }

type Asked = { siteId: string; sessionId: string; q: MessageQuery; what: string }

/**
 * Holds chat_messages locked against reads (a poll statement waits for it) until `unlock` or the
 * test's end, on a client of its own (`sql`, also for watching and ending the polls' backends),
 * so a pool full of waiting polls cannot stall the test.
 */
async function messagesLocked(t: { teardown: (fn: () => unknown) => void }) {
  const sql = postgres(await fileDatabaseUrl(), { max: 2, onnotice: () => {} })
  const holder = await sql.reserve()
  await holder`begin`
  await holder`lock table chat_messages in access exclusive mode`
  let held = true
  const unlock = async () => {
    if (!held) return
    held = false
    await holder`commit`
    holder.release()
  }
  t.teardown(async () => {
    await unlock()
    await sql.end()
  })
  /** The backends of the poll statements waiting for the lock, the lone ones' or the shared ones' (unnest), once there are `count`. */
  const waiting = async (shared: boolean, count: number): Promise<number[] | false> => {
    const rows = await sql<{ pid: number }[]>`
      select pid from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and (query like '%unnest%') = ${shared}`
    return rows.length === count && rows.map((r) => r.pid)
  }
  return { sql, unlock, waiting }
}

t.test('concurrent polls answered together each get what a lone poll gets', async (t) => {
  const app = await sharedTestApp()
  const [siteA, siteB] = [await makeSite(app), await makeSite(app)]
  const [a1, a2, a3, b1] = [await makeSession(app, siteA), await makeSession(app, siteA), await makeSession(app, siteA), await makeSession(app, siteB)]
  const times: Record<string, Date[]> = {}
  for (const [s, count] of [[a1, 6], [a2, 3], [b1, 4]] as const) {
    for (let i = 0; i < count; i++) {
      const { message } = await sendMessage(app.db, noEvents, { sessionId: s.id, sender: i % 2 ? 'agent' : 'visitor', senderName: null, text: `${s.id.slice(0, 4)} #${i}` })
      ;(times[s.id] ??= []).push(message.createdAt)
    }
  }
  await app.sql`update chat_sessions set status = 'closed', closed_at = now(), agent_read_seq = 0 where id = ${a3.id}`
  await app.sql`update chat_sessions set agent_read_seq = 2 where id = ${a1.id}`

  const asked: Asked[] = [
    { siteId: siteA.id, sessionId: a1.id, q: {}, what: 'a1, whole history' },
    { siteId: siteA.id, sessionId: a1.id, q: { after: 3 }, what: 'a1 after 3' },
    { siteId: siteA.id, sessionId: a1.id, q: { after: 1, limit: 2 }, what: 'a1 after 1, two' },
    { siteId: siteA.id, sessionId: a1.id, q: { since: times[a1.id]?.[3] }, what: 'a1 since its 4th' },
    { siteId: siteA.id, sessionId: a1.id, q: { since: times[a1.id]?.[0], after: 4 }, what: 'a1 since and after' },
    { siteId: siteA.id, sessionId: a1.id, q: { after: 2 ** 40 }, what: 'a1 after far beyond' },
    { siteId: siteA.id, sessionId: a2.id, q: { after: 0, limit: 1 }, what: 'a2 first one' },
    { siteId: siteA.id, sessionId: a2.id, q: {}, what: 'a2 whole' },
    { siteId: siteA.id, sessionId: a3.id, q: {}, what: 'a3, closed, no messages' },
    { siteId: siteB.id, sessionId: b1.id, q: { after: 1 }, what: 'b1 by its own site' },
    { siteId: siteA.id, sessionId: b1.id, q: {}, what: "b1 by another site's key" },
    { siteId: siteB.id, sessionId: a1.id, q: { after: 0 }, what: "a1 by another site's key" },
    { siteId: siteA.id, sessionId: randomUUID(), q: {}, what: 'a missing session' },
  ]
  // a pool of its own, whose statements are counted: only this test's polls share its batcher
  const { db, count } = await countingDb(t, 4)
  const ask = (a: Asked) => pollMessages(db, a.siteId, a.sessionId, a.q)
  // one at a time: each runs alone, as it did before polls shared statements
  const alone: (Poll | undefined)[] = []
  for (const a of asked) alone.push(await ask(a))
  t.same(alone.map((p) => p?.messages.length), [6, 3, 2, 2, 2, 0, 1, 3, 0, 3, undefined, undefined, undefined], 'the lone answers are as seeded')
  t.same(alone.map((p) => p?.status), ['open', 'open', 'open', 'open', 'open', 'open', 'open', 'open', 'closed', 'open', undefined, undefined, undefined])
  t.same([alone[0]?.lastSeq, alone[0]?.agentReadSeq, alone[9]?.lastSeq], [6, 2, 4])

  // all at once, three times over in different orders: they share a statement, the same
  // session's polls with different pages among them
  const order = [...asked.keys(), ...[...asked.keys()].reverse(), ...asked.keys()]
  const { result: together, queries } = await count(() => Promise.all(order.map((i) => ask(asked[i] as Asked))))
  t.equal(queries, 3, `${order.length} polls: the two that ran at once alone, then all the others in one statement`)
  for (const [n, i] of order.entries()) t.same(together[n], alone[i], asked[i]?.what ?? `poll ${i}`)
})

t.test('concurrent HTTP polls of two sites: each visitor gets its own session, never another site\'s', async (t) => {
  const app = await sharedTestApp()
  const [siteA, siteB] = [await makeSite(app), await makeSite(app)]
  const sessions = [await makeSession(app, siteA), await makeSession(app, siteA), await makeSession(app, siteB)]
  for (const [n, s] of sessions.entries()) {
    for (let i = 0; i <= n; i++) await sendMessage(app.db, noEvents, { sessionId: s.id, sender: 'visitor', senderName: null, text: `${n}:${i}` })
  }
  const queries = ['', 'after=1', 'limit=1']
  const alone = new Map<string, unknown>()
  for (const s of sessions) for (const q of queries) alone.set(`${s.id}?${q}`, await poll(app, s, q))
  // another site's key with a valid token of this one: the token is bound to its session, the site check to the key
  const crossSite = (s: TestSession, other: TestSession) => ({ ...pollRequest(s), headers: { ...sessionHeaders(s), 'x-api-key': other.site.apiKey } })
  // two polls of the test's own run alone and wait for the lock, so the HTTP polls queue behind
  // them; cancelled, they let the whole queue go as one statement, which waits for the lock too
  const lock = await messagesLocked(t)
  const blockers = [0, 1].map(() => pollMessages(app.db, siteA.id, sessions[0]?.id ?? '', {}).catch(() => 'cancelled'))
  const lone = await waitFor('the two blocking polls to wait for the lock', () => lock.waiting(false, 2))
  const answering = Promise.all([
    ...sessions.flatMap((s) => queries.map(async (q) => ({ key: `${s.id}?${q}`, res: await app.inject(pollRequest(s, q)) }))),
    ...[0, 1].map(async (n) => ({ key: 'cross', res: await app.inject(crossSite(sessions[n] as TestSession, sessions[2] as TestSession)) })),
  ])
  // the injected requests reach the batcher within a few turns of the event loop, with no I/O
  // (the site is cached): let them all queue, with room for a test process starved of CPU
  // while the other test files run (that moment cannot be observed from outside the batcher)
  await new Promise((resolve) => setTimeout(resolve, 500))
  await lock.sql`select pg_cancel_backend(pid) from unnest(${lone}::int[]) as pid`
  t.same(await Promise.all(blockers), ['cancelled', 'cancelled'])
  await waitFor('the HTTP polls\' shared statement', () => lock.waiting(true, 1))
  t.same(await lock.waiting(false, 0), [], 'and no HTTP poll runs alone')
  await lock.unlock()
  const answers = await answering
  for (const { key, res } of answers) {
    if (key === 'cross') t.not(res.statusCode, 200, 'another site\'s key reads nothing')
    else t.same({ status: res.statusCode, messages: res.json().data.messages }, { status: 200, messages: alone.get(key) }, key)
  }
})

t.test('a shared poll statement whose connection is lost is not rerun poll by poll: its polls fail as a lone poll does (503)', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const sessions = await Promise.all(Array.from({ length: 6 }, () => makeSession(app, site)))
  await poll(app, sessions[0] as TestSession) // the site is cached now: a poll's one statement is its own
  const lock = await messagesLocked(t)
  // two polls run alone and wait for the lock; the other four wait for them and go as one statement
  const answers = sessions.map((s) => app.inject(pollRequest(s)))
  const lone = await waitFor('the two lone polls to wait for the lock', () => lock.waiting(false, 2))
  // a terminated backend stands for any lost connection
  await lock.sql`select pg_terminate_backend(pid) from unnest(${lone}::int[]) as pid`
  const shared = await waitFor('the shared statement to wait for the lock', () => lock.waiting(true, 1))
  await lock.sql`select pg_terminate_backend(${shared[0] ?? 0})`
  await lock.unlock()
  const unavailable = { status: 503, code: 'UNAVAILABLE' }
  t.same((await Promise.all(answers)).map((res) => ({ status: res.statusCode, code: res.json().error?.code })), sessions.map(() => unavailable),
    'the lone polls and the shared statement\'s polls alike are answered 503, none of them run again')
})
