import t from 'tap'
import { buildTestApp } from '../../helpers/app.js'
import { makeSession, makeSite, poll, sendRequest } from '../../helpers/fixtures.js'

t.test('a visitor message is stored with the next seq and returned by polling', async (t) => {
  const app = await buildTestApp(t)
  const s = await makeSession(app, await makeSite(app))
  const res = await app.inject(sendRequest(s, { text: 'hello' }))
  t.equal(res.statusCode, 201)
  const message = res.json().data.message
  t.match(message, { seq: 1, sender: 'visitor', text: 'hello', sessionId: s.id })
  t.match(message.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  t.same((await poll(app, s)).map((m) => m.text), ['hello'])
})

t.test('a retry with the same clientMessageId returns the stored message', async (t) => {
  const app = await buildTestApp(t)
  const s = await makeSession(app, await makeSite(app))
  const first = await app.inject(sendRequest(s, { text: 'hi', clientMessageId: 'c1' }))
  const again = await app.inject(sendRequest(s, { text: 'hi', clientMessageId: 'c1' }))
  t.equal(first.statusCode, 201)
  t.equal(again.statusCode, 200)
  t.equal(again.json().data.message.id, first.json().data.message.id)
  t.same((await poll(app, s)).map((m) => m.seq), [1])
})
