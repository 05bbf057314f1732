import t from 'tap'
import { buildApp } from '../../src/app.js'
import { fileDatabaseUrl, testConfig } from '../helpers/app.js'
import { makeTelegramSite, startBotApi, telegramEnv, TEST_BOT_TOKEN } from '../helpers/telegram.js'
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
