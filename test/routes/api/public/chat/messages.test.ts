import { randomUUID } from 'node:crypto'
import t from 'tap'
import { closeSession } from '../../../../../src/chat/sessions.js'
import { sharedTestApp } from '../../../../helpers/app.js'
import { call, serve } from '../../../../helpers/http.js'
import { makeSession, makeSite, makeStaff, poll, pollRequest, replyRequest, sendRequest, sessionHeaders, type WireMessage } from '../../../../helpers/fixtures.js'

t.test('a visitor message is stored with the next seq and returned by polling', async (t) => {
  const app = await sharedTestApp()
  const s = await makeSession(app, await makeSite(app))
  const res = await app.inject(sendRequest(s, { text: 'hello' }))
  t.equal(res.statusCode, 201)
  const message = res.json().data.message
  t.match(message, { seq: 1, sender: 'visitor', text: 'hello', sessionId: s.id })
  t.match(message.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  t.same((await poll(app, s)).map((m) => m.text), ['hello'])
})

t.test('a retry with the same clientMessageId returns the stored message', async (t) => {
  const app = await sharedTestApp()
  const s = await makeSession(app, await makeSite(app))
  const first = await app.inject(sendRequest(s, { text: 'hi', clientMessageId: 'c1' }))
  const again = await app.inject(sendRequest(s, { text: 'hi', clientMessageId: 'c1' }))
  t.equal(first.statusCode, 201)
  t.equal(again.statusCode, 200)
  t.equal(again.json().data.message.id, first.json().data.message.id)
  t.same((await poll(app, s)).map((m) => m.seq), [1])
})

t.test('a clientMessageId with a lone surrogate is 400: stored as U+FFFD, two different ids would be taken for one', async (t) => {
  const app = await sharedTestApp()
  const s = await makeSession(app, await makeSite(app))
  for (const clientMessageId of ['\ud800', 'id-\udbff', 'id-\udc00']) {
    const res = await app.inject(sendRequest(s, { text: 'hi', clientMessageId }))
    t.equal(res.statusCode, 400, JSON.stringify(clientMessageId))
    t.match(res.json().error, { code: 'VALIDATION_ERROR', details: [{ field: 'clientMessageId' }] })
  }
  t.same(await poll(app, s), [], 'nothing stored')
})

t.test('concurrent sends with one clientMessageId store one message', async (t) => {
  const app = await sharedTestApp()
  const s = await makeSession(app, await makeSite(app))
  const results = await Promise.all(Array.from({ length: 8 }, () => app.inject(sendRequest(s, { text: 'once', clientMessageId: 'dup-1' }))))
  t.same(results.map((r) => r.statusCode).sort(), [200, 200, 200, 200, 200, 200, 200, 201])
  t.equal(new Set(results.map((r) => r.json().data.message.id)).size, 1)
  const after = await app.inject(sendRequest(s, { text: 'next' }))
  t.equal(after.json().data.message.seq, 2, 'the duplicates spent no seq')
  t.same((await poll(app, s)).map((m) => m.text), ['once', 'next'])
})

t.test('text must have a non-space character and at most 4000 characters (code points)', async (t) => {
  const app = await sharedTestApp()
  const s = await makeSession(app, await makeSite(app))
  for (const body of [{ text: '' }, { text: ' \n\t ' }, { text: 'x'.repeat(4001) }, { text: '😀'.repeat(4001) }, {}, { text: 5 }, { text: 'hi', extra: true }, { text: 'hi', clientMessageId: 'c'.repeat(65) }]) {
    const res = await app.inject(sendRequest(s, body))
    t.equal(res.statusCode, 400, JSON.stringify(body).slice(0, 40))
    t.equal(res.json().error.code, 'VALIDATION_ERROR')
  }
  const padded = await app.inject(sendRequest(s, { text: '  ' + 'y'.repeat(4000) + '\n' }))
  t.equal(padded.statusCode, 201, '4000 characters once trimmed')
  t.equal(padded.json().data.message.text, '  ' + 'y'.repeat(4000) + '\n', 'stored untrimmed')
  const emoji = await app.inject(sendRequest(s, { text: '👩‍💻'.repeat(1000) + '😀'.repeat(1000) }))
  t.equal(emoji.statusCode, 201, '4000 code points of emoji')
  t.same((await poll(app, s)).map((m) => m.seq), [1, 2])
})

t.test('a closed session refuses messages with 409 SESSION_CLOSED and polling shows it closed', async (t) => {
  const app = await sharedTestApp()
  const s = await makeSession(app, await makeSite(app))
  await app.inject(sendRequest(s, { text: 'before' }))
  await closeSession(app.db, app.bus, s.id)
  const res = await app.inject(sendRequest(s, { text: 'after' }))
  t.equal(res.statusCode, 409)
  t.match(res.json(), { success: false, error: { code: 'SESSION_CLOSED' } })
  const polled = (await app.inject(pollRequest(s))).json().data
  t.equal(polled.status, 'closed')
  t.equal(polled.lastSeq, 1)
})

t.test('polling: since, after and limit select exactly the newer messages, oldest first', async (t) => {
  const app = await sharedTestApp()
  const s = await makeSession(app, await makeSite(app))
  const sent: WireMessage[] = []
  for (let i = 1; i <= 5; i++) sent.push((await app.inject(sendRequest(s, { text: `m${i}` }))).json().data.message)
  const texts = (ms: WireMessage[]) => ms.map((m) => m.text)
  t.same(texts(await poll(app, s)), ['m1', 'm2', 'm3', 'm4', 'm5'])
  t.same(texts(await poll(app, s, `since=${encodeURIComponent(sent[1]?.createdAt ?? '')}`)), ['m3', 'm4', 'm5'])
  t.same(texts(await poll(app, s, `since=${Date.parse(sent[3]?.createdAt ?? '')}`)), ['m5'], 'epoch milliseconds')
  t.same(texts(await poll(app, s, 'since=')), texts(sent), 'empty since means not given')
  // a widget that keeps lastMessageTime as a Date interpolates its toString(): second precision, any zone
  const sentAt = new Date(Date.parse(sent[3]?.createdAt ?? '') + 1000)
  t.same(texts(await poll(app, s, `since=${sentAt}`)), [], 'Date.toString() of a later second')
  t.same(texts(await poll(app, s, `since=${encodeURIComponent(new Date(0).toString())}`)), texts(sent), 'Date.toString(), encoded')
  t.same(texts(await poll(app, s, 'since=Thu Jan 01 1970 02:00:00 GMT+0200 (Eastern European Standard Time)')), texts(sent), 'another zone, + unencoded')
  t.same(texts(await poll(app, s, 'after=3')), ['m4', 'm5'])
  t.same(texts(await poll(app, s, 'after=0&limit=2')), ['m1', 'm2'])
  t.same(texts(await poll(app, s, 'after=5')), [])
  t.same(texts(await poll(app, s, `since=${encodeURIComponent(sent[0]?.createdAt ?? '')}&after=3`)), ['m4', 'm5'], 'both apply')
  const data = (await app.inject(pollRequest(s, 'after=5'))).json().data
  t.same(data, { messages: [], status: 'open', lastSeq: 5, agentReadSeq: 0 })
})

t.test('invalid since, after or limit is 400', async (t) => {
  const app = await sharedTestApp()
  const s = await makeSession(app, await makeSite(app))
  for (const q of ['since=yesterday', 'since=2026-13-45T99:99:99Z', 'since=0000-01-01T00:00:00Z', 'since=9999999999999999', 'after=-1', 'after=abc', 'after=1.5',
    'after=99999999999999999999', 'limit=0', 'limit=201', 'limit=x', `since=${'1'.repeat(100)}`,
    // days a month does not have: JavaScript's Date rolls them over into the next month
    'since=2026-02-30T00:00:00.000Z', 'since=2026-04-31T10:00:00Z', 'since=2025-02-29', 'since=2026-06-00T00:00:00Z']) {
    const res = await app.inject(pollRequest(s, q))
    t.equal(res.statusCode, 400, q)
    t.equal(res.json().error.code, 'VALIDATION_ERROR', q)
  }
})

t.test("a session token opens its own session only; another site's session is 404", async (t) => {
  const app = await sharedTestApp()
  const site = await makeSite(app)
  const mine = await makeSession(app, site)
  const other = await makeSession(app, site)
  const borrowed = await app.inject({ ...pollRequest(other), headers: sessionHeaders(mine) })
  t.equal(borrowed.statusCode, 401)
  t.equal(borrowed.json().error.code, 'UNAUTHORIZED')
  const noToken = await app.inject({ ...pollRequest(mine), headers: { 'x-api-key': site.apiKey } })
  t.equal(noToken.statusCode, 401)
  const wrongSecret = await app.inject({ ...pollRequest(mine), headers: { 'x-api-key': site.apiKey, 'x-api-secret': 'sk_wrong' } })
  t.equal(wrongSecret.statusCode, 401)
  const foreign = await makeSite(app)
  const viaForeignSecret = await app.inject({ ...pollRequest(mine), headers: { 'x-api-key': foreign.apiKey, 'x-api-secret': foreign.apiSecret } })
  t.equal(viaForeignSecret.statusCode, 404)
  t.equal(viaForeignSecret.json().error.code, 'NOT_FOUND')
  const sendForeign = await app.inject({ ...sendRequest(mine, { text: 'x' }), headers: { 'x-api-key': foreign.apiKey, 'x-api-secret': foreign.apiSecret } })
  t.equal(sendForeign.statusCode, 404)
  const malformed = await app.inject({ method: 'GET', url: '/api/public/chat/sessions/not-a-uuid/messages', headers: { 'x-api-key': site.apiKey, 'x-api-secret': site.apiSecret } })
  t.equal(malformed.statusCode, 404)
  const missing = await app.inject({ method: 'GET', url: `/api/public/chat/sessions/${randomUUID()}/messages`, headers: { 'x-api-key': site.apiKey, 'x-api-secret': site.apiSecret } })
  t.equal(missing.statusCode, 404)
})

t.test("the site secret opens every session of its site, as the seed's back ends use it", async (t) => {
  const app = await sharedTestApp()
  const site = await makeSite(app)
  const s = await makeSession(app, site)
  const headers = { 'x-api-key': site.apiKey, 'x-api-secret': site.apiSecret }
  const sent = await app.inject({ ...sendRequest(s, { text: 'from the back end' }), headers })
  t.equal(sent.statusCode, 201)
  const polled = await app.inject({ ...pollRequest(s), headers })
  t.same(polled.json().data.messages.map((m: WireMessage) => m.text), ['from the back end'])
})

t.test('an agent reply reaches the visitor poll with the agent name', async (t) => {
  const app = await sharedTestApp()
  const s = await makeSession(app, await makeSite(app))
  const agent = await makeStaff(app, 'agent', 'Olena')
  t.equal((await app.inject(replyRequest(agent, s.id, 'Добрий день!'))).statusCode, 201)
  t.match(await poll(app, s), [{ sender: 'agent', senderName: 'Olena', text: 'Добрий день!' }])
})

t.test("a retry's clientMessageId is looked up in the caller's site only: another site's key and secret read nothing", async (t) => {
  const app = await sharedTestApp()
  const base = await serve(app)
  const siteA = await makeSite(app)
  const victim = await makeSession(app, await makeSite(app))
  const stored = await app.inject(sendRequest(victim, { text: 'private to site B', clientMessageId: 'c-1' }))
  t.equal(stored.statusCode, 201)
  const res = await call(base, `/api/public/chat/sessions/${victim.id}/messages`, {
    headers: { 'x-api-key': siteA.apiKey, 'x-api-secret': siteA.apiSecret },
    body: { text: 'anything', clientMessageId: 'c-1' },
  })
  t.equal(res.status, 404, "another site's session is missing, retry or not")
  t.notMatch(res.text, 'private to site B')
  t.same((await poll(app, victim)).map((m) => m.text), ['private to site B'], 'and nothing was stored in it')
})
