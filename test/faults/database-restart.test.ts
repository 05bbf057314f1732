import t from 'tap'
import { startCluster, stopCluster } from '../../src/db/cluster.js'
import { uniq } from '../helpers/fixtures.js'
import { callUntilAnswered, fetchJson } from '../helpers/http.js'
import { assertAllAlive, ownCluster, startInstances, stopAll, waitForTelegramOnce } from '../helpers/instances.js'
import { openSocket, ResumingSocket } from '../helpers/sockets.js'
import { startBotApi } from '../helpers/telegram-bot-api.js'
import { waitFor } from '../helpers/wait.js'

/**
 * What an operator does: two instances on one Postgres, then `pg_ctl stop -m fast` and, a
 * few seconds later, start again. A cluster of its own, so other test files are not disturbed.
 */

const DOWN_FOR_MS = 3000
const HEALTH_DOWN_MS = 1500
const BACK_WITHIN_MS = 5000

t.test('two instances survive a database stop and start, answer 503 while it is down, and recover within 5 s', async (t) => {
  const pg = await ownCluster(t, 'livechat-restart-')
  const bot = await startBotApi(t)
  const { servers, siteKey, siteSecret, chatId, adminToken } = await startInstances(t, pg.url, bot)
  const [a, b] = servers.map((s) => s.api) as [string, string]

  const started = await fetchJson(a, 'POST', '/api/public/chat/sessions', {
    headers: { 'x-api-key': siteKey, 'x-api-secret': siteSecret }, body: { userSessionId: uniq('visitor-'), firstMessage: 'before 0' },
  })
  const visitor = { id: String(started.body.data?.sessionId), token: String(started.body.data?.token) }
  const visitorHeaders = { 'x-api-key': siteKey, 'x-session-token': visitor.token }
  const widget = await ResumingSocket.open(t, (after) =>
    `${a.replace('http', 'ws')}/api/public/chat/sessions/${visitor.id}/ws?apiKey=${siteKey}&token=${visitor.token}&after=${after}`)
  const dashboard = await openSocket(t, `${b.replace('http', 'ws')}/api/chat/ws?token=${encodeURIComponent(adminToken)}`)
  await widget.waitForSeq(1)

  // sent just before the stop: some are still on their way to Telegram when it comes
  const texts = ['before 0']
  for (let i = 1; i <= 6; i++) {
    const text = `before ${i} ${uniq()}`
    texts.push(text)
    const res = await fetchJson(i % 2 ? a : b, 'POST', `/api/public/chat/sessions/${visitor.id}/messages`, { headers: visitorHeaders, body: { text, clientMessageId: `b${i}` } })
    t.equal(res.status, 201)
  }

  await stopCluster(pg.clusterDir)
  for (const [i, base] of [a, b].entries()) {
    const askedAt = Date.now()
    const health = await fetchJson(base, 'GET', '/healthz')
    t.equal(health.status, 503, `instance ${i}: /healthz 503 while the database is down`)
    t.ok(Date.now() - askedAt <= HEALTH_DOWN_MS + 200, `instance ${i}: answered within 1.5 s (${Date.now() - askedAt} ms)`)
    const send = await fetchJson(base, 'POST', `/api/public/chat/sessions/${visitor.id}/messages`, { headers: visitorHeaders, body: { text: 'while down', clientMessageId: `down-${i}` } })
    t.equal(send.status, 503, `instance ${i}: a send is 503`)
    t.same(send.body.success, false)
    t.equal(send.body.error?.code, 'UNAVAILABLE')
    const list = await fetchJson(base, 'GET', '/api/chat/sessions', { headers: { authorization: `Bearer ${adminToken}` } })
    t.equal(list.status, 503, `instance ${i}: the staff list is 503`)
    t.equal(list.body.error?.code, 'UNAVAILABLE')
  }
  await new Promise((r) => setTimeout(r, DOWN_FOR_MS))
  t.ok(widget.closeCodes.every((c) => c === 1012 || c === 1013), `the widget socket stayed open or closed with a reconnect code (${widget.closeCodes.join(',') || 'open'})`)

  const resyncsAtRestart = dashboard.ofType('resync').length
  await startCluster(pg.clusterDir, pg.port)
  const backAt = Date.now()
  for (const [i, base] of [a, b].entries()) {
    await waitFor(`instance ${i} /healthz 200`, async () => (await fetchJson(base, 'GET', '/healthz')).status === 200, BACK_WITHIN_MS)
  }
  t.ok(Date.now() - backAt <= BACK_WITHIN_MS, `both healthy ${Date.now() - backAt} ms after the database is back`)

  // writes work on both, and each instance's LISTEN is back: B's write reaches A's socket, A's write B's dashboard
  const afterTexts: string[] = []
  for (const [i, base] of [b, a].entries()) {
    const text = `after ${i} ${uniq()}`
    afterTexts.push(text)
    const res = await callUntilAnswered(base, 'POST', `/api/public/chat/sessions/${visitor.id}/messages`, { headers: visitorHeaders, body: { text, clientMessageId: `a${i}` } }, BACK_WITHIN_MS)
    t.equal(res.status, 201, `a write through instance ${i === 0 ? 'B' : 'A'} works`)
  }
  await widget.waitForSeq(9, BACK_WITHIN_MS)
  t.same(widget.seqs, [1, 2, 3, 4, 5, 6, 7, 8, 9], 'the widget socket got every message once, in order (caught up)')
  // the dashboard gets the frame, or a resync (its LISTEN came back after the write) and then
  // finds the message through the REST API as the contract tells it to
  const resyncsBefore = resyncsAtRestart
  await dashboard.waitUntil('the dashboard to see A\'s write or be told to refetch', () =>
    dashboard.ofType('message.created').some((f) => f.message?.text === afterTexts[1]) || dashboard.ofType('resync').length > resyncsBefore, BACK_WITHIN_MS)
  if (!dashboard.ofType('message.created').some((f) => f.message?.text === afterTexts[1])) {
    const detail = await fetchJson(b, 'GET', `/api/chat/sessions/${visitor.id}`, { headers: { authorization: `Bearer ${adminToken}` } })
    t.ok((detail.body.data?.messages as { text: string }[] | undefined)?.some((m) => m.text === afterTexts[1]), 'after the resync, B\'s REST API has the message stored through A')
  }
  t.pass('the dashboard on B got the message stored through A (a frame, or a resync and a refetch)')

  // the Telegram reader runs again: a manager's reply to a card comes back as an agent message
  const card = await waitFor('a card in Telegram', () => bot.sentTo(chatId).find((m) => m.text.includes(texts[3] ?? '')), BACK_WITHIN_MS)
  bot.pushUpdate({ chatId, text: 'reply after the restart', replyTo: card.message_id })
  await waitFor('the manager\'s reply to be stored', async () => {
    const res = await fetchJson(a, 'GET', `/api/public/chat/sessions/${visitor.id}/messages?after=9`, { headers: visitorHeaders })
    return (res.body.data?.messages as { text: string }[] | undefined)?.some((m) => m.text === 'reply after the restart')
  }, BACK_WITHIN_MS)
  t.pass('the Telegram reader works again')

  // nothing sent before the stop lost or doubled: in the database and in Telegram (the outbox runs again)
  const stored = await fetchJson(a, 'GET', `/api/public/chat/sessions/${visitor.id}/messages`, { headers: visitorHeaders })
  const storedTexts = (stored.body.data?.messages as { text: string }[]).map((m) => m.text)
  t.same(storedTexts.slice(0, 9), [...texts, ...afterTexts], 'every message stored once, in order')
  await waitForTelegramOnce(t, bot, chatId, [...texts.slice(1), ...afterTexts], BACK_WITHIN_MS * 2)
  await new Promise((r) => setTimeout(r, 1000))
  await waitForTelegramOnce(t, bot, chatId, [...texts.slice(1), ...afterTexts], 0)

  await assertAllAlive(t, servers)
  await stopAll(t, servers)
})
