import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { buildTestApp } from '../../../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff, poll, replyRequest, sendRequest, sessionHeaders } from '../../../helpers/fixtures.js'
import { dashboardUrl, listen, openSocket, widgetUrl } from '../../../helpers/sockets.js'
import { startBotApi } from '../../../helpers/telegram-bot-api.js'
import { makeTelegramSite, telegramEnv } from '../../../helpers/telegram.js'
import { waitFor } from '../../../helpers/wait.js'

const noteUrl = (id: string) => `/api/chat/sessions/${id}/notes`

t.test('a note is 201 with its author, comes back with the session (oldest first), takes no seq, and reaches dashboards as note.created', async (t) => {
  const app = await buildTestApp(t)
  const olena = await makeStaff(app, 'agent', 'Olena')
  const petro = await makeStaff(app, 'agent', 'Petro')
  const dashboard = await openSocket(t, dashboardUrl(await listen(app), petro))
  const s = await makeSession(app, await makeSite(app), { firstMessage: 'my order is late' })
  const first = await app.inject({ method: 'POST', url: noteUrl(s.id), headers: bearer(olena), payload: { text: 'VIP customer, be kind' } })
  t.equal(first.statusCode, 201)
  const note = first.json().data.note
  t.match(note, { sessionId: s.id, text: 'VIP customer, be kind', author: { id: olena.id, name: 'Olena' } })
  t.ok(note.id && !Number.isNaN(Date.parse(note.createdAt)))
  t.notOk('seq' in note, 'a note has no seq')
  await app.inject({ method: 'POST', url: noteUrl(s.id), headers: bearer(petro), payload: { text: 'second' } })
  await app.inject(replyRequest(olena, s.id, 'we are on it'))
  const detail = (await app.inject({ method: 'GET', url: `/api/chat/sessions/${s.id}`, headers: bearer(petro) })).json().data
  t.same(detail.notes.map((n: { text: string }) => n.text), ['VIP customer, be kind', 'second'])
  t.same(detail.messages.map((m: { seq: number }) => m.seq), [1, 2], 'messages keep their seqs without gaps')
  await dashboard.waitUntil('two note.created', () => dashboard.ofType('note.created').length === 2)
  t.match((dashboard.ofType('note.created')[0] as { note?: unknown }).note, { id: note.id, text: 'VIP customer, be kind', author: { name: 'Olena' } })
  await app.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/close`, headers: bearer(olena) })
  t.equal((await app.inject({ method: 'POST', url: noteUrl(s.id), headers: bearer(olena), payload: { text: 'closed: follow up tomorrow' } })).statusCode, 201, 'a closed chat takes notes')
})

t.test('bad note requests are 4xx', async (t) => {
  const app = await buildTestApp(t)
  const agent = await makeStaff(app)
  const s = await makeSession(app, await makeSite(app))
  for (const payload of [{}, { text: '' }, { text: '   ' }, { text: 'x'.repeat(4001) }, { text: 5 }, { text: 'hi', author: 'x' }, { text: '\ud800' }]) {
    const res = await app.inject({ method: 'POST', url: noteUrl(s.id), headers: bearer(agent), payload })
    t.equal(res.statusCode, 400, JSON.stringify(payload).slice(0, 40))
    t.equal(res.json().error.code, 'VALIDATION_ERROR')
  }
  t.equal((await app.inject({ method: 'POST', url: noteUrl(s.id), payload: { text: 'hi' } })).statusCode, 401)
  t.equal((await app.inject({ method: 'POST', url: noteUrl(randomUUID()), headers: bearer(agent), payload: { text: 'hi' } })).statusCode, 404)
  t.equal((await app.inject({ method: 'POST', url: noteUrl('nope'), headers: bearer(agent), payload: { text: 'hi' } })).statusCode, 404)
})

t.test('a note never reaches the visitor: not in polls, widget sockets, resume history, Telegram threads or webhook message events', async (t) => {
  const hooks: string[] = []
  const receiver = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      hooks.push(body)
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => receiver.close(() => resolve())))
  const bot = await startBotApi(t)
  // the webhook receiver is on loopback, which the SSRF guard refuses unless allowed
  const app = await buildTestApp(t, { env: { ...telegramEnv(bot), WEBHOOK_ALLOW_PRIVATE: 'true' } })
  const chatId = `-100${Date.now()}`
  bot.forumChats.add(chatId)
  const site = await makeTelegramSite(app, chatId)
  const admin = await makeStaff(app, 'admin', 'Olena')
  const hook = await app.inject({ method: 'POST', url: `/api/admin/sites/${site.id}/webhooks`, headers: bearer(admin), payload: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks` } })
  t.equal(hook.statusCode, 201)
  const s = await makeSession(app, site, { firstMessage: 'where is my parcel?', name: 'Ann' })
  const widget = await openSocket(t, widgetUrl(await listen(app), s))

  const secret = `NOTE-${randomUUID()}`
  t.equal((await app.inject({ method: 'POST', url: noteUrl(s.id), headers: bearer(admin), payload: { text: `internal: ${secret}` } })).statusCode, 201)
  // what was sent after the note, through every channel, shows each had its chance to carry it
  t.equal((await app.inject(replyRequest(admin, s.id, 'after the note'))).statusCode, 201)
  await app.inject(sendRequest(s, { text: 'thanks' }))
  await widget.waitUntil('the messages after the note', () => widget.seqs().includes(3))
  await waitFor('Telegram got what followed the note', () => bot.sent.filter((m) => m.chat_id === chatId).some((m) => m.text.includes('thanks')))
  await waitFor('webhooks got what followed the note', () => hooks.some((h) => h.includes('thanks')))

  const polled = await poll(app, s)
  t.same(polled.map((m) => m.seq), [1, 2, 3], 'the note took no seq')
  const resumed = await app.inject({ method: 'POST', url: '/api/public/chat/sessions', headers: sessionHeaders(s), payload: { userSessionId: s.userSessionId } })
  t.equal(resumed.statusCode, 200)
  const everywhere: [string, string][] = [
    ['polls', JSON.stringify(polled)],
    ['polls since/after', JSON.stringify(await poll(app, s, 'after=0&limit=200'))],
    ['the widget socket', JSON.stringify(widget.frames)],
    ['resume history', resumed.body],
    ['Telegram (every call, visitor threads included)', JSON.stringify(bot.calls)],
    ['webhook deliveries (message.* included)', hooks.join('\n')],
    ['the outbox (everything queued to leave)', JSON.stringify(await app.db.execute('select payload from outbox'))],
  ]
  for (const [where, text] of everywhere) t.notOk(text.includes(secret), `not in ${where}`)
  t.ok(hooks.some((h) => h.includes('"message.created"')), 'message events were delivered')
  // transcripts and visitor exports do not exist yet (issue 13); they must be added to this list when they land
  const staffView = await app.inject({ method: 'GET', url: `/api/chat/sessions/${s.id}`, headers: bearer(admin) })
  t.ok(staffView.body.includes(secret), 'staff do see it')
})
