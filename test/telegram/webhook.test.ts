import t from 'tap'
import { buildApp } from '../../src/app.js'
import { UPDATE_MAX_ATTEMPTS } from '../../src/telegram/reader.js'
import { buildTestApp, fileDatabaseUrl, testConfig } from '../helpers/app.js'
import { poll, sendRequest } from '../helpers/fixtures.js'
import { startBotApi } from '../helpers/telegram-bot-api.js'
import { makeTelegramSite, notifiedSession, telegramEnv, TEST_BOT_TOKEN } from '../helpers/telegram.js'
import { waitFor } from '../helpers/wait.js'

t.test('webhook mode: a failing setWebhook is asked again ever later after 5xx, after its retry_after on 429, a minute after a refusal; each failure logged once, without the token', async (t) => {
  const bot = await startBotApi(t)
  const serverError = { status: 500, description: 'Internal Server Error' }
  bot.refuseNext('setWebhook', serverError, serverError, serverError,
    { status: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1 },
    { status: 400, description: 'Bad Request: bad webhook: HTTPS url must be provided' })
  const lines: string[] = []
  // rounds every 100 ms: a call repeated each round would show at once
  const env = telegramEnv(bot, { TELEGRAM_WEBHOOK_URL: 'https://chat.example.com', TELEGRAM_WEBHOOK_SECRET: 'hook-secret_1', TELEGRAM_IDLE_MS: '100', LOG_LEVEL: 'info' })
  const app = await buildApp({ config: testConfig(env), databaseUrl: await fileDatabaseUrl(), logStream: { write: (line) => { lines.push(line) } } })
  t.teardown(() => app.close())
  await makeTelegramSite(app)

  const calls = () => bot.calls.filter((c) => c.method === 'setWebhook')
  const refused = await waitFor('the refusal after the 429', () => calls()[4], 5000)
  await new Promise((r) => setTimeout(r, 1500))
  const gaps = calls().slice(1).map((c, i) => c.at - (calls()[i]?.at ?? 0))
  t.equal(calls().length, 5, `not asked again within 1.5 s of the refusal (gaps ${gaps.join(', ')} ms)`)
  t.ok(refused.at - (calls()[3]?.at ?? 0) >= 1000, 'retry_after (1 s) waited out after the 429')
  t.ok(gaps.slice(0, 3).every((gap, i) => gap >= 100 * 2 ** i), 'after 5xx each wait doubles from TELEGRAM_IDLE_MS')

  const logged = lines.filter((l) => l.includes('setting the Telegram webhook failed'))
  t.equal(logged.length, 5, 'each failure logged once')
  t.match(logged[3], /retry after 1.*"retryInMs":1000/)
  t.match(logged[4], /bad webhook: HTTPS url must be provided.*"retryInMs":60000/)
  t.notOk(lines.join('').includes(TEST_BOT_TOKEN.split(':')[1] ?? TEST_BOT_TOKEN), 'the token is not in the log')
})

t.test('webhook mode: setWebhook with a secret, wrong secrets refused, a redelivered update handled once', async (t) => {
  const bot = await startBotApi(t)
  const app = await buildTestApp(t, { env: telegramEnv(bot, { TELEGRAM_WEBHOOK_URL: 'https://chat.example.com', TELEGRAM_WEBHOOK_SECRET: 'hook-secret_1' }) })
  const { site, s, cardId } = await notifiedSession(app, bot)
  const hook = await waitFor('setWebhook', () => bot.webhooks[0])
  t.match(hook, { url: 'https://chat.example.com/api/telegram/webhook/123456', secret_token: 'hook-secret_1' })
  t.notOk(bot.calls.some((c) => c.method === 'getUpdates'), 'no polling in webhook mode')
  const updateId = Date.now()
  const update = bot.updateBody(updateId, { chatId: site.chatId, replyTo: cardId, text: 'via webhook' })
  const post = (secret: string) => app.inject({
    method: 'POST', url: '/api/telegram/webhook/123456', headers: { 'x-telegram-bot-api-secret-token': secret }, payload: update,
  })
  t.equal((await post('wrong')).statusCode, 401)
  t.equal((await post('hook-secret_1')).statusCode, 200)
  t.equal((await post('hook-secret_1')).statusCode, 200)
  t.same((await poll(app, s)).filter((m) => m.sender === 'agent').map((m) => m.text), ['via webhook'])

  // Telegram posts updates of different chats side by side, and retries a failed one while later ones go on
  const [earlier, later] = [updateId + 10, updateId + 11]
  const deliver = (body: Record<string, unknown>) => app.inject({
    method: 'POST', url: '/api/telegram/webhook/123456', headers: { 'x-telegram-bot-api-secret-token': 'hook-secret_1' }, payload: body,
  })
  t.equal((await deliver(bot.updateBody(later, { chatId: '-100999', text: 'chatter in another chat' }))).statusCode, 200)
  const earlierReply = bot.updateBody(earlier, { chatId: site.chatId, replyTo: cardId, text: 'handled after a later update' })
  t.equal((await deliver(earlierReply)).statusCode, 200)
  t.equal((await deliver(earlierReply)).statusCode, 200, 'and its redelivery')
  // what getUpdates handled before a switch to webhook mode, Telegram may post again: it stays handled
  await app.sql`insert into app_settings (key, value) values ('telegram_offset:123456', ${String(updateId)})
    on conflict (key) do update set value = greatest(app_settings.value::bigint, excluded.value::bigint)::text`
  t.equal((await deliver(bot.updateBody(updateId - 1, { chatId: site.chatId, replyTo: cardId, text: 'handled by getUpdates before the switch' }))).statusCode, 200)
  t.same((await poll(app, s)).filter((m) => m.sender === 'agent').map((m) => m.text), ['via webhook', 'handled after a later update'], 'an earlier update handled after a later one is stored, once; one getUpdates handled is not')

  // a message without a chat: handling it throws every time; Telegram would post it again for a day
  const bad = { update_id: updateId + 20, message: { message_id: 1, date: 0, text: 'no chat' } }
  const statuses: number[] = []
  for (let i = 0; i < UPDATE_MAX_ATTEMPTS + 1; i++) statuses.push((await deliver(bad)).statusCode)
  t.same(statuses, [...new Array<number>(UPDATE_MAX_ATTEMPTS - 1).fill(500), 200, 200], `skipped after ${UPDATE_MAX_ATTEMPTS} attempts, then handled`)
})

t.test('webhook mode: a reply with a lone surrogate is answered 200 and refused with a note, as when polling', async (t) => {
  const bot = await startBotApi(t)
  const app = await buildTestApp(t, { env: telegramEnv(bot, { TELEGRAM_WEBHOOK_URL: 'https://chat.example.com', TELEGRAM_WEBHOOK_SECRET: 'hook-secret_1' }) })
  const { site, s, cardId } = await notifiedSession(app, bot)
  let updateId = Date.now()
  const post = (text: string) => app.inject({
    method: 'POST', url: '/api/telegram/webhook/123456', headers: { 'x-telegram-bot-api-secret-token': 'hook-secret_1' },
    payload: bot.updateBody(++updateId, { chatId: site.chatId, replyTo: cardId, text }),
  })
  // inject's JSON.stringify writes the half as a \ud800 escape
  const broken = await post('broken \ud800 half')
  t.equal(broken.statusCode, 200, broken.body)
  const note = await waitFor('the refusal', () => bot.sentTo(site.chatId).find((m) => m.text.startsWith('Not sent')))
  t.match(note.text, 'not valid Unicode')
  t.equal((await post('whole 😀 pair')).statusCode, 200)
  t.same((await poll(app, s)).filter((m) => m.sender === 'agent').map((m) => m.text), ['whole 😀 pair'], 'only the well-formed reply reached the visitor')
  t.equal((await app.inject(sendRequest(s, { text: 'visitor \ud800 half' }))).statusCode, 400, 'other routes still refuse such a body')
})

t.test('webhook mode: the webhook route is rate limited per client address like every public route', async (t) => {
  const bot = await startBotApi(t)
  const app = await buildTestApp(t, { env: telegramEnv(bot, { TELEGRAM_WEBHOOK_URL: 'https://chat.example.com', TELEGRAM_WEBHOOK_SECRET: 'hook-secret_1', RATE_LIMIT_PUBLIC_PER_MINUTE: '1' }) })
  const post = () => app.inject({
    method: 'POST', url: '/api/telegram/webhook/123456', headers: { 'x-telegram-bot-api-secret-token': 'wrong' }, payload: { update_id: 1 }, remoteAddress: '10.9.8.7',
  })
  t.equal((await post()).statusCode, 401)
  const limited = await post()
  t.equal(limited.statusCode, 429, 'a flood of guessed secrets is cut off')
  t.equal(limited.json().error.code, 'RATE_LIMITED')
  t.ok(Number(limited.headers['retry-after']) > 0, 'with Retry-After')
})
