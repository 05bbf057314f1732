import t from 'tap'
import { sendMessage } from '../../src/chat/messages.js'
import { closeSession } from '../../src/chat/sessions.js'
import { transaction } from '../../src/chat/transaction.js'
import { sharedTestApp } from '../helpers/app.js'
import { countingDb } from '../helpers/counting-db.js'
import { makeSession, makeSite, poll, sendRequest } from '../helpers/fixtures.js'

const noEvents = { publish: () => {} }

t.test('a first send with a clientMessageId is one statement; a retry finds the stored message', async (t) => {
  const app = await sharedTestApp()
  const s = await makeSession(app, await makeSite(app))
  const { db, count } = await countingDb(t)
  const send = () => sendMessage(db, noEvents, { sessionId: s.id, sender: 'visitor', text: 'hi', clientMessageId: 'rt-1' })
  const first = await count(send)
  t.equal(first.queries, 1, 'no lookup before the append')
  t.equal(first.result.created, true)
  const again = await count(send)
  t.same([again.result.created, again.result.message.id], [false, first.result.message.id])
  t.equal(again.queries, 2, 'the append fails on the unique index, then one lookup')
  const plain = await count(() => sendMessage(db, noEvents, { sessionId: s.id, sender: 'visitor', text: 'no id' }))
  t.same([plain.queries, plain.result.message.seq], [1, 2], 'the failed append spent no seq')
})

t.test('a retry after the session closed answers 200 with the stored message; a new send 409', async (t) => {
  const app = await sharedTestApp()
  const s = await makeSession(app, await makeSite(app))
  const first = await app.inject(sendRequest(s, { text: 'last words', clientMessageId: 'late-1' }))
  t.equal(first.statusCode, 201)
  await closeSession(app.db, app.bus, s.id)
  const retry = await app.inject(sendRequest(s, { text: 'last words', clientMessageId: 'late-1' }))
  t.equal(retry.statusCode, 200)
  t.equal(retry.json().data.message.id, first.json().data.message.id)
  const fresh = await app.inject(sendRequest(s, { text: 'more', clientMessageId: 'late-2' }))
  t.equal(fresh.statusCode, 409)
  t.match(fresh.json(), { error: { code: 'SESSION_CLOSED' } })
  t.same((await poll(app, s)).map((m) => m.text), ['last words'])
})

t.test('a concurrent double send stores once: one 201, one 200 with the same message', async (t) => {
  const app = await sharedTestApp()
  const s = await makeSession(app, await makeSite(app))
  const both = await Promise.all([0, 1].map(() => app.inject(sendRequest(s, { text: 'twice', clientMessageId: 'dbl-1' }))))
  t.same(both.map((r) => r.statusCode).sort(), [200, 201])
  t.equal(both[0]?.json().data.message.id, both[1]?.json().data.message.id)
  t.same((await poll(app, s)).map((m) => m.seq), [1])
})

t.test('inside a transaction a retry is looked up first, so the transaction is not aborted', async (t) => {
  const app = await sharedTestApp()
  const s = await makeSession(app, await makeSite(app))
  await sendMessage(app.db, noEvents, { sessionId: s.id, sender: 'visitor', text: 'once', clientMessageId: 'tx-1' })
  const [retried, next] = await transaction(app.db, noEvents, async (tx, events) => [
    await sendMessage(tx, events, { sessionId: s.id, sender: 'visitor', text: 'once', clientMessageId: 'tx-1' }),
    await sendMessage(tx, events, { sessionId: s.id, sender: 'visitor', text: 'then this' }),
  ])
  t.equal(retried?.created, false)
  t.equal(next?.message.seq, 2)
})
