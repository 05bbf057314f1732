import t from 'tap'
import WebSocket from 'ws'
import { buildTestApp } from '../../../../helpers/app.js'
import { makeSession, makeSite, makeStaff, sendRequest } from '../../../../helpers/fixtures.js'
import { call } from '../../../../helpers/http.js'
import { floodWithoutReading, listen, openDashboard, openSocket, refusedUpgrade, TestSocket, widgetUrl } from '../../../../helpers/sockets.js'
import { waitFor } from '../../../../helpers/wait.js'

/** Opens a socket from a given loopback address; resolves with it, or with the refusal's status. */
function tryOpen(url: string, localAddress = '127.0.0.1'): Promise<WebSocket | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { localAddress })
    ws.once('open', () => resolve(ws))
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0)
      res.resume()
      ws.terminate()
    })
    ws.once('error', () => resolve(0))
  })
}

t.test('at most WS_MAX_PER_SESSION sockets per session: the next upgrade is 429 with Retry-After', async (t) => {
  const app = await buildTestApp(t, { env: { WS_MAX_PER_SESSION: '3' } })
  const base = await listen(app)
  const s = await makeSession(app, await makeSite(app))
  const open = [await openSocket(t, widgetUrl(base, s)), await openSocket(t, widgetUrl(base, s)), await openSocket(t, widgetUrl(base, s))]
  const refused = await refusedUpgrade(widgetUrl(base, s))
  t.equal(refused.status, 429)
  t.equal(refused.body.error?.code, 'RATE_LIMITED')
  t.match(String(refused.headers['retry-after']), /^\d+$/)
  const other = await openSocket(t, widgetUrl(base, await makeSession(app, await makeSite(app))))
  t.ok(other, 'another session is not affected')
  open[0]?.close()
  await waitFor('a free slot', async () => {
    const ws = await tryOpen(widgetUrl(base, s))
    if (typeof ws === 'number') return false
    ws.terminate()
    return true
  })
  t.pass('a closed socket frees its slot')
})

t.test('at most WS_MAX_PER_IP sockets per client address, whatever the session; racing upgrades cannot pass it', async (t) => {
  const app = await buildTestApp(t, { env: { WS_MAX_PER_IP: '3' } })
  const base = await listen(app)
  const site = await makeSite(app)
  const sessions = await Promise.all(Array.from({ length: 10 }, () => makeSession(app, site)))
  const results = await Promise.all(sessions.map((s) => tryOpen(widgetUrl(base, s))))
  const opened = results.filter((r): r is WebSocket => typeof r !== 'number')
  t.teardown(() => opened.forEach((ws) => ws.terminate()))
  // a racing upgrade may open and be closed at once with 1013: wait for those closes
  const alive = await waitFor('three open sockets', () => {
    const open = opened.filter((ws) => ws.readyState === ws.OPEN)
    return open.length === 3 && open
  })
  t.equal(alive.length, 3, `three stay open (${results.filter((r) => r === 429).length} refused with 429)`)
  t.equal(app.hub.widgetSocketCount, 3)
  const elsewhere = await tryOpen(widgetUrl(base, await makeSession(app, site)), '127.0.0.2')
  t.ok(typeof elsewhere !== 'number', 'another client address has its own allowance')
  if (typeof elsewhere !== 'number') elsewhere.terminate()
})

t.test('messages sent on a socket spend the same per-IP budget as HTTP requests', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_PUBLIC_PER_MINUTE: '5' } })
  const base = await listen(app)
  const s = await makeSession(app, await makeSite(app)) // 1 of 5 (inject comes from 127.0.0.1 too)
  const socket = await openSocket(t, widgetUrl(base, s)) // the upgrade: 2 of 5
  for (const text of ['one', 'two', 'three', 'four']) socket.send({ type: 'message', text, clientMessageId: text })
  await socket.waitUntil('one refusal', () => socket.ofType('error').length === 1)
  t.match(socket.ofType('error')[0], { error: { code: 'RATE_LIMITED' }, clientMessageId: 'four' })
  const poll = await call(base.replace('ws', 'http'), `/api/public/chat/sessions/${s.id}/messages`, { headers: { 'x-api-key': s.site.apiKey, 'x-session-token': s.token } })
  t.equal(poll.status, 429, 'and an HTTP request from the same address is over the budget too')
})

t.test('read marks sent on a socket spend the per-IP budget of the HTTP read route: a flood of them is refused, not written', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_PUBLIC_PER_MINUTE: '5' } })
  const base = await listen(app)
  const s = await makeSession(app, await makeSite(app), { firstMessage: 'hi' }) // 1 of 5
  const socket = await openSocket(t, widgetUrl(base, s)) // the upgrade: 2 of 5
  for (let seq = 0; seq < 4; seq++) socket.send({ type: 'read', seq })
  await socket.waitUntil('one refusal', () => socket.ofType('error').length === 1)
  t.match(socket.ofType('error')[0], { error: { code: 'RATE_LIMITED' } })
  const poll = await call(base.replace('ws', 'http'), `/api/public/chat/sessions/${s.id}/messages`, { headers: { 'x-api-key': s.site.apiKey, 'x-session-token': s.token } })
  t.equal(poll.status, 429, 'and an HTTP request from the same address is over the budget too')
})

t.test('after beyond lastSeq (up to 2^53 - 1) means nothing yet: no error, no resync for dashboards, later messages arrive', async (t) => {
  const app = await buildTestApp(t)
  const base = await listen(app)
  const staff = await makeStaff(app)
  const s = await makeSession(app, await makeSite(app), { firstMessage: 'one' })
  const dashboard = await openDashboard(t, base, staff)
  const sockets: TestSocket[] = []
  for (const after of ['99999999999', String(2 ** 53 - 1), '2147483648']) sockets.push(await openSocket(t, widgetUrl(base, s, { after })))
  const plain = await openSocket(t, widgetUrl(base, s))
  await plain.waitForSeq(1)
  await app.inject(sendRequest(s, { text: 'two' }))
  for (const socket of [...sockets, plain]) await socket.waitForSeq(2)
  for (const socket of sockets) {
    t.same(socket.seqs(), [2], 'only what came after it opened')
    t.same(socket.ofType('error'), [])
    t.equal(socket.ws.readyState, socket.ws.OPEN)
  }
  t.same(plain.seqs(), [1, 2])
  await dashboard.waitUntil('message 2', () => dashboard.ofType('message.created').some((f) => f.message?.seq === 2))
  t.same(dashboard.ofType('resync'), [], 'the dashboards were not disturbed')
  t.equal((await refusedUpgrade(widgetUrl(base, s, { after: '9007199254740992' }))).status, 400, '2^53 is beyond the bound: 400')
})

t.test('a client that sends frames but never reads their answers is cut off with 4008: the answers do not pile up', async (t) => {
  const bound = 65536
  const app = await buildTestApp(t, { env: { WS_MAX_BUFFERED_BYTES: String(bound) } })
  const base = await listen(app)
  const s = await makeSession(app, await makeSite(app))
  const socket = await openSocket(t, widgetUrl(base, s))
  const { cut, sent, mostBuffered } = await floodWithoutReading(app, socket)
  t.ok(cut, `cut off after ${sent} frames`)
  t.ok(mostBuffered < 2 * bound, `at most about the bound queued (${mostBuffered} bytes)`)
  if (!cut) return
  t.equal((await socket.closed).code, 4008)
})
