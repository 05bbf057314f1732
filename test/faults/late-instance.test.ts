import t from 'tap'
import { uniq } from '../helpers/fixtures.js'
import { fetchJson } from '../helpers/http.js'
import { assertAllAlive, ownCluster, startInstances, stopAll } from '../helpers/instances.js'
import { startServer, type RunningServer } from '../helpers/server.js'
import { openSocket, ResumingSocket } from '../helpers/sockets.js'
import { startBotApi } from '../helpers/telegram-bot-api.js'

/**
 * With the Postgres bus, an instance that found itself alone sends no NOTIFY. A second
 * instance started (or restarted after kill -9) while traffic flows must get the first one's
 * messages (a visitor's, an agent's reply) on its widget and dashboard sockets at once, not only
 * when its sweep (WS_SWEEP_MS, 2 s) catches up.
 */

const SWEEP_MS = 2000
// well under the sweep: a message that comes this fast came by notification
const PUSHED_WITHIN_MS = 800

t.test('a late or restarted second instance gets the first one\'s messages pushed at once', async (t) => {
  const pg = await ownCluster(t, 'livechat-late-')
  const bot = await startBotApi(t)
  const { servers, siteKey, siteSecret, env, adminToken } = await startInstances(t, pg.url, bot, 1)
  const a = servers[0]?.api ?? ''
  const started = await fetchJson(a, 'POST', '/api/public/chat/sessions', {
    headers: { 'x-api-key': siteKey, 'x-api-secret': siteSecret }, body: { userSessionId: uniq('visitor-'), firstMessage: 'first' },
  })
  const visitor = { id: String(started.body.data?.sessionId), token: String(started.body.data?.token) }
  const headers = { 'x-api-key': siteKey, 'x-session-token': visitor.token }
  const widgetOn = (base: string) => ResumingSocket.open(t, (after) =>
    `${base.replace('http', 'ws')}/api/public/chat/sessions/${visitor.id}/ws?apiKey=${siteKey}&token=${visitor.token}&after=${after}`)
  let seq = 1
  const send = async (base: string) => {
    const res = await fetchJson(base, 'POST', `/api/public/chat/sessions/${visitor.id}/messages`, { headers, body: { text: `m ${seq + 1}`, clientMessageId: uniq('c') } })
    t.equal(res.status, 201, `send ${seq + 1} is 201`)
    return ++seq
  }
  // A alone, long enough for its check to say so
  const onA = await widgetOn(a)
  for (let i = 0; i < 6; i++) {
    await send(a)
    await new Promise((r) => setTimeout(r, 300))
  }

  const pushedTo = async (late: RunningServer, what: string) => {
    const onLate = await widgetOn(late.api)
    const dash = await openSocket(t, `${late.api.replace('http', 'ws')}/api/chat/ws?token=${encodeURIComponent(adminToken)}`)
    await onLate.waitForSeq(seq)
    for (let i = 0; i < 4; i++) {
      const s = await send(a)
      const sentAt = Date.now()
      await onLate.waitForSeq(s, SWEEP_MS * 3)
      t.ok(Date.now() - sentAt <= PUSHED_WITHIN_MS, `${what}: message ${s} sent on A reached B's socket in ${Date.now() - sentAt} ms`)
      await dash.waitUntil('dash', () => dash.ofType('message.created').some((f) => f.message?.seq === s), 3000)
      t.ok(Date.now() - sentAt <= PUSHED_WITHIN_MS, `${what}: dashboard on B got ${s} in ${Date.now() - sentAt} ms`)
      const agent = await fetchJson(a, 'POST', `/api/chat/sessions/${visitor.id}/messages`, { headers: { authorization: `Bearer ${adminToken}` }, body: { text: `agent ${s}` } })
      t.equal(agent.status, 201, 'agent reply on A 201')
      const at = Date.now()
      seq++
      await onLate.waitForSeq(seq, SWEEP_MS * 3)
      t.ok(Date.now() - at <= PUSHED_WITHIN_MS, `${what}: agent reply ${seq} on A reached B's widget in ${Date.now() - at} ms`)
      await new Promise((r) => setTimeout(r, 400))
    }
    t.same(onLate.seqs, Array.from({ length: seq }, (_, i) => i + 1), `${what}: B's socket got every message once, in order`)
    onLate.stop()
  }

  const b = await startServer(t, env)
  await pushedTo(b, 'started late')
  b.kill('SIGKILL')
  await b.exitCode()
  for (let i = 0; i < 6; i++) {
    await send(a)
    await new Promise((r) => setTimeout(r, 300))
  }
  const b2 = await startServer(t, env)
  await pushedTo(b2, 'restarted after kill -9')
  await onA.waitForSeq(seq)
  t.same(onA.seqs, Array.from({ length: seq }, (_, i) => i + 1), 'A\'s socket got every message once, in order')
  await assertAllAlive(t, [servers[0] as RunningServer, b2])
  await stopAll(t, [servers[0] as RunningServer, b2])
})
