import t, { type Test } from 'tap'
import { ChatApiError, type ConnectionState, type Session } from '../../packages/client/src/index.js'
import { bearer, makeStaff } from '../helpers/fixtures.js'
import { waitFor } from '../helpers/wait.js'
import { delivered, NodeWebSocket, oneToN, seqs, world, type World } from './helpers.js'

// one server, fault proxy, site and agent for the tests that do not restart the server: each
// test starts with no faults and closes its own clients when it ends
const fileWorld = await world(t)
function sharedWorld(t: Test): World {
  fileWorld.proxy.heal()
  return {
    ...fileWorld,
    visitor(options) {
      const v = fileWorld.visitor(options)
      t.teardown(() => v.client.close())
      return v
    },
  }
}

t.test('start() creates a session under the widget\'s storage keys, and another client with that storage resumes it by proving the token', async (t) => {
  const w = sharedWorld(t)
  const a = w.visitor()
  const session = await a.client.start({ name: 'Marta', pageUrl: 'https://shop.example/cart' })
  t.equal(session.status, 'open')
  t.same([...a.storage.map.keys()].sort(), ['chatSessionId', 'chatSessionToken', 'chatUserSessionId'])
  t.equal(a.storage.map.get('chatSessionId'), session.id)
  await a.client.send('first')
  a.client.close()

  const b = w.visitor({ storage: a.storage })
  t.ok(b.client.hasStoredSession)
  const resumed = await b.client.start()
  t.equal(resumed.id, session.id, 'the same session')
  t.same(b.seen.map((m) => m.text), ['first'], 'its history is delivered once')

  const stranger = w.visitor()
  stranger.storage.setItem('chatUserSessionId', session.userSessionId)
  const other = await stranger.client.start()
  t.not(other.id, session.id, 'a userSessionId without the token does not open the conversation')
  t.not(stranger.storage.map.get('chatUserSessionId'), session.userSessionId, 'and a new visitor id is kept instead')
})

t.test('messages reach the client on the socket, each once, in seq order, its own sends included', async (t) => {
  const w = sharedWorld(t)
  const v = w.visitor()
  const states: ConnectionState[] = []
  v.client.on('connection', (s) => void states.push(s))
  const session = await v.client.start()
  await waitFor('the socket', () => v.client.connection === 'socket')
  const sent = await v.client.send('hello')
  t.equal(sent.seq, 1)
  t.same(v.client.messages.map((m) => m.text), ['hello'], 'send() resolves once the message is held')
  await w.reply(session.id, 'hi, how can I help?')
  await delivered(v, 2)
  t.same(seqs(v.seen), [1, 2])
  t.same(v.seen.map((m) => m.sender), ['visitor', 'agent'])
  t.same(states, ['socket'], 'no polling while the socket is up')
})

t.test('without a WebSocket the client polls every 2 seconds', async (t) => {
  const w = sharedWorld(t)
  const v = w.visitor({ WebSocket: undefined })
  const session = await v.client.start()
  await waitFor('polling', () => v.client.connection === 'polling')
  await w.reply(session.id, 'by polling')
  const at = Date.now()
  await delivered(v, 1)
  t.ok(Date.now() - at < 4000, 'within two polling periods')
  t.equal(v.seen[0]?.text, 'by polling')
})

t.test('refused sockets: the client falls back to polling, and back to the socket once sockets work again', async (t) => {
  const w = sharedWorld(t)
  w.proxy.faults.refuseSockets = true
  const v = w.visitor()
  const session = await v.client.start()
  const started = Date.now()
  await waitFor('polling', () => v.client.connection === 'polling')
  t.ok(w.proxy.counts.refusedSockets > 0, 'the socket was tried and refused')
  // each refused retry (back-off 0.25–0.5, 0.5–1, 1–2, 2–4 s) used to push the poll 2 s further: 3.75 s at the earliest
  t.ok(Date.now() - started < 3500, `first poll ${Date.now() - started} ms after start, one poll interval, not pushed back by the retries`)
  await w.reply(session.id, 'while sockets are refused')
  await delivered(v, 1)

  w.proxy.faults.refuseSockets = false
  // the socket is retried with back-off capped at 30 s
  await waitFor('back on the socket', () => v.client.connection === 'socket', 40_000)
  await w.reply(session.id, 'on the socket again')
  await delivered(v, 2)
  t.same(v.seen.map((m) => m.text), ['while sockets are refused', 'on the socket again'])
})

t.test('a server restart loses nothing and doubles nothing: replies and sends made while it is down arrive once', async (t) => {
  const w = await world(t)
  const v = w.visitor()
  const session = await v.client.start()
  await waitFor('the socket', () => v.client.connection === 'socket')
  await v.client.send('before')

  w.proxy.faults.down = true
  w.proxy.cutAll()
  const sending = v.client.send('while it is down')
  await w.server.restart()
  await w.reply(session.id, 'reply while the client is cut off')
  w.proxy.target = w.server.origin
  w.proxy.faults.down = false

  await sending
  await delivered(v, 3)
  await waitFor('the socket again', () => v.client.connection === 'socket', 40_000)
  await w.reply(session.id, 'after')
  await delivered(v, 4)
  const stored = await w.history(session.id)
  t.same(seqs(v.seen), oneToN(4))
  t.same(v.seen.map((m) => m.id), stored.map((m) => m.id), 'exactly what the server stored')
  t.same(stored.filter((m) => m.text === 'while it is down').length, 1, 'the retried send is stored once')
})

t.test('duplicated and reordered frames are delivered once each, in seq order', async (t) => {
  const w = sharedWorld(t)
  const v = w.visitor()
  const session = await v.client.start()
  await waitFor('the socket', () => v.client.connection === 'socket')
  Object.assign(w.proxy.faults, { duplicate: 0.4, reorder: 0.4 })
  for (let i = 1; i <= 30; i++) await w.reply(session.id, `reply ${i}`)
  await delivered(v, 30)
  t.ok(w.proxy.counts.duplicated > 0 && w.proxy.counts.reordered > 0, `frames were duplicated (${w.proxy.counts.duplicated}) and reordered (${w.proxy.counts.reordered})`)
  t.same(seqs(v.seen), oneToN(30))
  t.same(seqs(v.client.messages), oneToN(30))
})

t.test('a send whose response is lost is retried with its clientMessageId: stored once, delivered once', async (t) => {
  const w = sharedWorld(t)
  const v = w.visitor({ transport: 'polling' })
  const session = await v.client.start()
  w.proxy.faults.loseSendResponses = 1
  const sent = await v.client.send('over a bad network')
  t.equal(w.proxy.counts.lostResponses, 1, 'the first response was lost')
  const stored = await w.history(session.id)
  t.same(stored.map((m) => m.id), [sent.id], 'stored once')
  t.same(v.seen.map((m) => m.id), [sent.id], 'delivered once')
  t.ok(sent.clientMessageId, 'with the clientMessageId the client made')
})

t.test('sends keep their order and a closed session says so: status event, SESSION_CLOSED, and start() begins a new session', async (t) => {
  const w = sharedWorld(t)
  const v = w.visitor()
  const statuses: Session['status'][] = []
  const lastSeqs: number[] = []
  v.client.on('session', (s) => void (statuses.push(s.status), lastSeqs.push(s.lastSeq)))
  const session = await v.client.start()
  await Promise.all(['one', 'two', 'three'].map((text) => v.client.send(text)))
  t.same(v.seen.map((m) => m.text), ['one', 'two', 'three'], 'stored in the order sent')

  await w.server.app.inject({ method: 'POST', url: `/api/chat/sessions/${session.id}/close`, headers: bearer(w.agent) })
  await waitFor('the closed status', () => v.client.session?.status === 'closed')
  t.same(statuses, ['open', 'closed'])
  t.same(lastSeqs, [0, 3], 'the closed session carries the lastSeq of the messages held, not the one from start()')
  t.equal(v.client.session?.lastSeq, 3)
  const err = await v.client.send('too late').catch((e: unknown) => e)
  t.ok(err instanceof ChatApiError && err.code === 'SESSION_CLOSED', 'the send is refused with SESSION_CLOSED')

  const next = await v.client.start()
  t.not(next.id, session.id, 'a new session')
  t.same(v.client.messages, [], 'which starts empty')
  await v.client.send('new chat')
  t.same(seqs(v.client.messages), [1])
})

t.test('reset() after a closed session makes no session until start(); that start makes a new one for the same visitor', async (t) => {
  const w = sharedWorld(t)
  const v = w.visitor()
  const session = await v.client.start()
  await v.client.send('before')
  await w.server.app.inject({ method: 'POST', url: `/api/chat/sessions/${session.id}/close`, headers: bearer(w.agent) })
  await waitFor('the closed status', () => v.client.session?.status === 'closed')

  const sessionCount = async () => (await w.server.app.inject({ method: 'GET', url: '/api/chat/sessions', headers: bearer(w.agent) })).json().data.total as number
  const before = await sessionCount()
  v.client.reset()
  t.equal(v.client.session, undefined)
  t.same(v.client.messages, [])
  t.equal(v.storage.map.get('chatSessionId'), undefined, 'no session id is stored until the next start')
  t.notOk(v.client.hasStoredSession)
  t.equal(await sessionCount(), before, 'reset() creates no session on the server')

  const next = await v.client.start()
  t.equal(await sessionCount(), before + 1, 'start() does')
  t.not(next.id, session.id, 'a new session')
  t.equal(next.userSessionId, session.userSessionId, 'for the same visitor: the closed session\'s token proved it')
  t.equal(v.storage.map.get('chatSessionId'), next.id)
  await v.client.send('after')
  t.same(v.seen.map((m) => m.text), ['before', 'after'])
  t.same(seqs(v.client.messages), [1])
})

t.test('an erased session is forgotten at once: its socket\'s close 4004 says lost with no reconnect; a polling client hears it at its next poll', async (t) => {
  const w = sharedWorld(t)
  const admin = await makeStaff(w.server.app, 'admin')
  const erase = (id: string) => w.server.app.inject({ method: 'DELETE', url: `/api/chat/sessions/${id}`, headers: bearer(admin) })

  let sockets = 0
  const v = w.visitor({ WebSocket: class extends NodeWebSocket {
    constructor(url: string | URL) {
      super(url)
      sockets++
    }
  } })
  const lost: ChatApiError[] = []
  v.client.on('lost', (err) => void lost.push(err))
  const session = await v.client.start()
  await v.client.send('hello')
  await waitFor('the socket', () => v.client.connection === 'socket')
  const erasedAt = Date.now()
  t.equal((await erase(session.id)).statusCode, 204)
  await waitFor('lost', () => lost.length > 0 || undefined, 5000)
  const after = Date.now() - erasedAt
  t.ok(after < 1500, `told ${after} ms after the erasure, not after a poll`)
  t.match(lost, [{ status: 404 }])
  t.equal(v.client.connection, 'offline')
  t.equal(v.client.session, undefined)
  t.notOk(v.client.hasStoredSession, 'the session is forgotten')
  await new Promise((r) => setTimeout(r, 2500))
  t.equal(sockets, 1, 'no socket was opened to the erased session again')
  await v.client.send('a new chat')
  t.not(v.client.session?.id, session.id, 'the next send starts a new session')
  t.same(seqs(v.client.messages), [1])
  await waitFor('the new session\'s socket', () => v.client.connection === 'socket' || undefined)
  t.equal(sockets, 2, 'which has a socket of its own, not polling for good')

  // polling: the next poll (within 2 s) finds it gone
  const p = w.visitor({ transport: 'polling' })
  const pLost: ChatApiError[] = []
  p.client.on('lost', (err) => void pLost.push(err))
  const polled = await p.client.start()
  await erase(polled.id)
  await waitFor('lost by polling', () => pLost.length > 0 || undefined, 5000)
  t.match(pLost, [{ status: 404 }])
  t.notOk(p.client.hasStoredSession)
})
