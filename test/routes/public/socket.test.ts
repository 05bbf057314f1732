import t from 'tap'
import { buildTestApp } from '../../helpers/app.js'
import { makeSession, makeSite, makeStaff, replyRequest, sendRequest } from '../../helpers/fixtures.js'
import { listen, refusedUpgrade, TestSocket, widgetUrl } from '../../helpers/sockets.js'

t.test('a widget socket gets the backlog, then pushed replies', async (t) => {
  const app = await buildTestApp(t)
  const base = await listen(app)
  const s = await makeSession(app, await makeSite(app), { firstMessage: 'hello' })
  await app.inject(sendRequest(s, { text: 'anyone?' }))
  const socket = await TestSocket.open(widgetUrl(base, s))
  t.teardown(() => socket.close())
  await socket.waitForSeq(2)
  const staff = await makeStaff(app)
  await app.inject(replyRequest(staff, s.id, 'Hi, Olena here'))
  await socket.waitForSeq(3)
  t.same(socket.seqs(), [1, 2, 3])
  t.match(socket.ofType('message')[2]?.message, { seq: 3, sender: 'agent', senderName: 'Olena', text: 'Hi, Olena here', sessionId: s.id })
  t.same(socket.ofType('session')[0]?.session, { id: s.id, status: 'open' })
})
