import t from 'tap'
import postgres from 'postgres'
import { buildTestApp, fileDatabaseUrl } from '../helpers/app.js'
import { makeSession, sendRequest } from '../helpers/fixtures.js'
import { startBotApi } from '../helpers/telegram-bot-api.js'
import { makeTelegramSite, telegramEnv } from '../helpers/telegram.js'
import { waitFor } from '../helpers/wait.js'
import { sentLedger } from '../../src/outbox/sent.js'
import type { OutboxRow } from '../../src/outbox/store.js'

/**
 * A send cannot be taken back: once Telegram took a notification, losing the database
 * before the row is marked done must not send it again (the CI failure of
 * terminate-backends: one of 60 messages reached Telegram twice).
 */

t.test('every backend of the app killed between Telegram taking a message and answering: sent once, then marked done and linked', async (t) => {
  const bot = await startBotApi(t)
  const app = await buildTestApp(t, { env: telegramEnv(bot) })
  const admin = postgres(await fileDatabaseUrl(), { max: 1, onnotice: () => {} })
  t.teardown(() => admin.end())
  const site = await makeTelegramSite(app)
  const s = await makeSession(app, site)
  await waitFor('the card', () => bot.sentTo(site.chatId)[0])
  let kills = 0
  bot.setBeforeAnswer(async (m) => {
    if (!m.text.includes('kill after send')) return
    kills++
    // the pool's connections, which the worker's writes after the send (link, mark) use
    await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`
  })
  t.equal((await app.inject(sendRequest(s, { text: 'kill after send' }))).statusCode, 201)
  const row = await waitFor('the row marked done', async () => {
    const [r] = await admin<{ id: string; status: string; attempts: number }[]>`
      select id, status, attempts from outbox where session_id = ${s.id} and channel = 'telegram' and kind = 'message.created' and status = 'done'`
    return r
  }, 15_000)
  t.equal(row.attempts, 1, 'one attempt')
  // a second send, had there been one, goes out at once (retries are 20 ms apart here): give it a round to show up
  await app.inject(sendRequest(s, { text: 'the next line' }))
  await waitFor('the next line', () => bot.sentTo(site.chatId).find((m) => m.text.includes('the next line')), 10_000)
  const sent = bot.sentTo(site.chatId).filter((m) => m.text.includes('kill after send'))
  t.equal(sent.length, 1, 'sent once')
  t.equal(kills, 1)
  const [link] = await admin<{ session_id: string }[]>`select session_id from telegram_messages where chat_id = ${site.chatId} and message_id = ${sent[0]?.message_id ?? 0}`
  t.equal(link?.session_id, s.id, 'a reply to it finds the conversation')
})

t.test('a sent row whose mark cannot be written stays unsendable here and is marked when the database answers again', async (t) => {
  const bot = await startBotApi(t)
  const app = await buildTestApp(t, { env: telegramEnv(bot) })
  const site = await makeTelegramSite(app)
  // due in an hour: no worker takes it meanwhile
  const [raw] = await app.sql<{ id: string }[]>`
    insert into outbox (site_id, channel, kind, payload, next_attempt_at, attempts)
    values (${site.id}, 'telegram', 'notify', '{"message":"x"}'::jsonb, now() + interval '1 hour', 1) returning id`
  const row = { id: Number(raw?.id) } as OutboxRow
  const errors: string[] = []
  let databaseAway = true
  const down = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })
  const ledger = sentLedger(app.db, async (write) => {
    if (databaseAway) throw down
    return write()
  }, { warn: () => {}, error: (_o, msg) => void errors.push(msg) })
  ledger.add(row, [])
  await new Promise((r) => setImmediate(r))
  t.same(ledger.ids(), [row.id], 'remembered as sent, so never claimed here again')
  const status = async () => (await app.sql<{ status: string }[]>`select status from outbox where id = ${row.id}`)[0]?.status
  t.equal(await status(), 'pending')
  databaseAway = false
  await ledger.retry()
  t.equal(await status(), 'done', 'marked at the next round, whatever its lease')
  t.same(ledger.ids(), [])
  await ledger.close()
  t.same(errors, [])
})
