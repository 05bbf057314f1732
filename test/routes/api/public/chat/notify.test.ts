import t from 'tap'
import { buildTestApp } from '../../../../helpers/app.js'
import { makeSite, type TestSite } from '../../../../helpers/fixtures.js'
import { startBotApi } from '../../../../helpers/telegram-bot-api.js'
import { makeTelegramSite, telegramEnv } from '../../../../helpers/telegram.js'
import { waitFor } from '../../../../helpers/wait.js'

const notify = (site: TestSite, payload: unknown) => ({
  method: 'POST' as const, url: '/api/public/chat/notify', headers: { 'x-api-key': site.apiKey }, payload: payload as Record<string, unknown>,
})

t.test('a note is queued (202) and reaches the chat formatted and escaped', async (t) => {
  const bot = await startBotApi(t)
  const app = await buildTestApp(t, { env: telegramEnv(bot) })
  const site = await makeTelegramSite(app)
  const res = await app.inject(notify(site, { name: 'Ivan <b>', phone: '+380 (67) 000', message: 'Call me & soon', pageUrl: 'https://shop.example/' }))
  t.equal(res.statusCode, 202)
  t.same(res.json(), { success: true, data: { queued: true } })
  const note = await waitFor('the note', () => bot.sent[0])
  t.equal(note.chat_id, site.chatId)
  t.match(note.text, /🔔 <b>Request from/)
  t.match(note.text, /👤 Ivan &lt;b&gt;/)
  t.match(note.text, /📞 \+380 \(67\) 000/)
  t.match(note.text, '<blockquote>Call me &amp; soon</blockquote>')
})

t.test('the body needs at least one non-empty field, and no unknown ones', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  for (const body of [{}, { name: '', phone: '  ' }, { message: null }]) {
    const res = await app.inject(notify(site, body))
    t.equal(res.statusCode, 400, JSON.stringify(body))
    t.equal(res.json().error.code, 'VALIDATION_ERROR')
  }
  const unknown = await app.inject(notify(site, { name: 'x', email: 'a@b.c' }))
  t.equal(unknown.statusCode, 400)
  t.match(unknown.json().error.message, /unknown field "email"/)
  t.equal((await app.inject(notify(site, { name: 'x'.repeat(101) }))).statusCode, 400)
})

t.test('a wrong or missing API key is 401', async (t) => {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'POST', url: '/api/public/chat/notify', headers: { 'x-api-key': 'nope' }, payload: { name: 'x' } })
  t.equal(res.statusCode, 401)
  t.equal((await app.inject({ method: 'POST', url: '/api/public/chat/notify', payload: { name: 'x' } })).statusCode, 401)
})

t.test('a site without Telegram accepts the note but has nowhere to send it', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const res = await app.inject(notify(site, { phone: '+1 555' }))
  t.equal(res.statusCode, 202)
  t.same(res.json().data, { queued: false })
})
