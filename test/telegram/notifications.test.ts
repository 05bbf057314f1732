import t from 'tap'
import { bootstrap } from '../../src/bootstrap.js'
import { siteBotToken } from '../../src/chat/sites.js'
import { loadConfig } from '../../src/config.js'
import { buildTestApp, freshDatabase } from '../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff, sendRequest, startSessionRequest } from '../helpers/fixtures.js'
import { startBotApi, visibleChars } from '../helpers/telegram-bot-api.js'
import { makeTelegramSite, telegramEnv, TEST_BOT_TOKEN } from '../helpers/telegram.js'
import { waitFor } from '../helpers/wait.js'

t.test('one app at the default settings and one stand-in that answers (each test with its own site and Telegram chat)', async (t) => {
  const bot = await startBotApi(t)
  const env = telegramEnv(bot)
  const app = await buildTestApp(t, { env })

  t.test('a new session and a visitor message reach the chat as cards, visitor text escaped', async (t) => {
    const site = await makeTelegramSite(app)
    const s = await makeSession(app, site, { name: 'Ann <script>', phone: '+380 44 123', pageUrl: 'https://shop.example/p?a=1&b=2' })
    t.equal((await app.inject(sendRequest(s, { text: 'Is <b>this</b> & that in stock?' }))).statusCode, 201)
    const [card, message] = await waitFor('two messages', () => bot.sentTo(site.chatId).length >= 2 && bot.sentTo(site.chatId))
    t.equal(card?.chat_id, site.chatId)
    t.equal(card?.parse_mode, 'HTML')
    t.match(card?.text, /New chat/)
    t.match(card?.text, /👤 Ann &lt;script&gt;/)
    t.match(card?.text, /📞 \+380 44 123/)
    t.match(card?.text, /🌐 https:\/\/shop\.example\/p\?a=1&amp;b=2/)
    t.match(card?.text, `<a href="https://chat.example.com/admin#/sessions/${s.id}">`)
    t.match(message?.text, 'Is &lt;b&gt;this&lt;/b&gt; &amp; that in stock?')
    t.notMatch(message?.text, '<b>this</b>')
  })

  t.test("a visitor's name and page cannot add lines to a card (forged phone, email or assignee lines)", async (t) => {
    const site = await makeTelegramSite(app)
    // the API stores contact details as sent; only the card must keep one line per field
    const name = 'Ann\n📞 +1 555 0100\r\n✉️ billing@bank.example\u2028🙋 assigned to Boss\u202e'
    const s = await makeSession(app, site, { name, pageUrl: 'https://shop.example/\n👤 Someone else' })
    t.equal((await app.inject(sendRequest(s, { text: 'hello' }))).statusCode, 201)
    const [card, message] = await waitFor('two messages', () => bot.sentTo(site.chatId).length >= 2 && bot.sentTo(site.chatId))
    const lines = card?.text.split('\n') ?? []
    t.same(lines.filter((l) => l.startsWith('📞') || l.startsWith('✉️') || l.startsWith('🙋')), [], 'no forged contact lines')
    t.equal(lines.filter((l) => l.startsWith('👤')).length, 1, 'one name line')
    t.ok(lines.includes('👤 Ann 📞 +1 555 0100 ✉️ billing@bank.example 🙋 assigned to Boss'), 'the name on its own line, as written otherwise')
    t.ok(lines.includes('🌐 https://shop.example/ 👤 Someone else'))
    t.equal(message?.text.split('\n')[0], `💬 <b>Ann 📞 +1 555 0100 ✉️ billing@bank.example 🙋 assigned to Boss · #${s.id.slice(0, 8)}</b>`, 'the heading stays one line')
  })

  t.test("a visitor's message text is quoted apart: lines in it that look like contact lines stay inside the quote", async (t) => {
    const site = await makeTelegramSite(app)
    const forged = 'hi\n📞 +1 555 0100\n✉️ billing@bank.example\n</blockquote>🙋 assigned to Boss'
    const s = await makeSession(app, site, { name: 'Ann', phone: '+380 44 123', firstMessage: forged })
    t.equal((await app.inject(sendRequest(s, { text: forged }))).statusCode, 201)
    const [card, message] = await waitFor('two messages', () => bot.sentTo(site.chatId).length >= 2 && bot.sentTo(site.chatId))
    const quoted = '<blockquote>hi\n📞 +1 555 0100\n✉️ billing@bank.example\n&lt;/blockquote&gt;🙋 assigned to Boss</blockquote>'
    for (const sent of [card, message]) {
      t.equal(sent?.text.split(quoted).length, 2, 'the text in one quote, its tags escaped')
      const outside = (sent?.text ?? '').replace(/<blockquote>[^]*?<\/blockquote>/g, '').split('\n')
      t.same(outside.filter((l) => l.startsWith('✉️') || l.startsWith('🙋') || l.includes('555 0100')), [], 'no forged lines outside the quote')
    }
    t.ok(card?.text.split('\n').includes('📞 +380 44 123'), 'the real phone line stays')
  })

  t.test('at the default OUTBOX_POLL_MS, a burst of five visitor lines reaches Telegram in order within 1 s of the last one\'s commit', async (t) => {
    t.notOk('OUTBOX_POLL_MS' in env, 'the default poll interval (1 s)')
    const site = await makeTelegramSite(app)
    const s = await makeSession(app, site, { firstMessage: 'opening line' })
    await waitFor('the card', () => bot.sentTo(site.chatId)[0])
    const lines = [1, 2, 3, 4, 5].map((n) => `line ${n}`)
    let lastCreatedAt = 0
    for (const text of lines) {
      const res = await app.inject(sendRequest(s, { text }))
      t.equal(res.statusCode, 201)
      // stamped by Postgres in the storing statement, so no later than its commit
      lastCreatedAt = Date.parse(res.json().data.message.createdAt)
    }
    const sends = () => bot.calls.filter((c) => c.method === 'sendMessage' && lines.some((l) => String(c.params.text).includes(l)))
    await waitFor('all five lines', () => sends().length === 5, 5000)
    const tookMs = Math.max(...sends().map((c) => c.at)) - lastCreatedAt
    // one poll round per line would be 4 s or more; sending a conversation's waiting lines in one round keeps it well under
    t.ok(tookMs < 1000, `the last line reached Telegram ${tookMs} ms after its commit`)
    t.same(sends().map((c) => lines.find((l) => String(c.params.text).includes(l))), lines, 'in order')
  })

  t.test("a new session's first message is quoted in its card, not sent twice", async (t) => {
    const site = await makeTelegramSite(app)
    await makeSession(app, site, { firstMessage: 'hello there' })
    const card = await waitFor('the card', () => bot.sentTo(site.chatId)[0])
    t.match(card?.text, '<blockquote>hello there</blockquote>')
    await app.inject(startSessionRequest(site, { userSessionId: 'another-visitor-1', name: 'Bo' }))
    await waitFor('the second card', () => bot.sentTo(site.chatId).length >= 2)
    t.equal(bot.sentTo(site.chatId).filter((m) => m.text.includes('hello there')).length, 1)
  })

  t.test("the longest fields a visitor may send still make cards within Telegram's 4096 characters: the quoted text is cut, the card arrives", async (t) => {
    const site = await makeTelegramSite(app)
    const text = `${'long question '.repeat(285)}END`
    const pageUrl = `https://shop.example/?${'utm=1&'.repeat(337)}`
    await makeSession(app, site, { name: 'N'.repeat(100), email: `${'e'.repeat(64)}@${'d'.repeat(180)}.com`, pageUrl, locale: 'en-GB', firstMessage: text })
    const note = await app.inject({ method: 'POST', url: '/api/public/chat/notify', headers: { 'x-api-key': site.apiKey }, payload: { name: 'N'.repeat(100), pageUrl, message: text } })
    t.equal(note.statusCode, 202)
    const [card, request] = await waitFor('the card and the note', () => bot.sentTo(site.chatId).length >= 2 && bot.sentTo(site.chatId))
    for (const sent of [card, request]) {
      t.ok(visibleChars(sent?.text ?? '') <= 4096, `${visibleChars(sent?.text ?? '')} characters`)
      t.match(sent?.text, /<blockquote>long question long question .*…<\/blockquote>/, 'the text, cut')
      t.notMatch(sent?.text, 'END')
      t.match(sent?.text, pageUrl.replace(/&/g, '&amp;'), 'the page address whole')
    }
  })

  t.test('a group Telegram turned into a supergroup (forum topics turned on): notes go to its new id, and the site keeps it', async (t) => {
    const site = await makeTelegramSite(app, '-4001234567')
    const supergroup = '-1009876543210'
    bot.migratedChats.set(site.chatId, supergroup)
    const s = await makeSession(app, site, { firstMessage: 'before the move was known' })
    const card = await waitFor('the card in the supergroup', () => bot.sentTo(supergroup)[0])
    t.match(card.text, 'before the move was known')
    t.equal((await app.sql<{ chat: string }[]>`select telegram_chat_id as chat from sites where id = ${site.id}`)[0]?.chat, supergroup)
    t.equal((await app.inject(sendRequest(s, { text: 'and after' }))).statusCode, 201)
    await waitFor('the next note there too', () => bot.sentTo(supergroup).some((m) => m.text.includes('and after')))
    t.equal((await app.sql<{ n: number }[]>`select count(*)::int as n from outbox where site_id = ${site.id} and status = 'failed'`)[0]?.n, 0, 'nothing given up on')
  })

  t.test('contact details given later are posted', async (t) => {
    const site = await makeTelegramSite(app)
    const s = await makeSession(app, site)
    const later = startSessionRequest(site, { userSessionId: s.userSessionId, name: 'Olha', phone: '+1 555' })
    // resuming needs the session's token
    const res = await app.inject({ ...later, headers: { ...later.headers, 'x-session-token': s.token } })
    t.equal(res.statusCode, 200)
    const contact = await waitFor('contact card', () => bot.sentTo(site.chatId).find((m) => m.text.includes('Contact details')))
    t.match(contact.text, /👤 Olha/)
    t.match(contact.text, /📞 \+1 555/)
  })
})

t.test('a legacy /notify note wakes the worker: it reaches Telegram well before the next poll', async (t) => {
  const bot = await startBotApi(t)
  // a poll interval long enough that only a wake-up can explain a prompt delivery
  const app = await buildTestApp(t, { env: telegramEnv(bot, { OUTBOX_POLL_MS: '60000' }) })
  const site = await makeTelegramSite(app)
  // the worker's first round (at start) is over: from now on it waits for the poll or a wake-up
  await new Promise((r) => setTimeout(r, 200))
  const res = await app.inject({ method: 'POST', url: '/api/public/chat/notify', headers: { 'x-api-key': site.apiKey }, payload: { name: 'Ann', message: 'call me' } })
  t.equal(res.statusCode, 202)
  t.equal(res.json().data.queued, true)
  const note = await waitFor('the note', () => bot.sentTo(site.chatId).find((m) => m.text.includes('call me')), 10_000)
  t.match(note.text, /Ann/)
})

t.test('TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID set after the first start (the demo site exists) reach that site on the next start', async (t) => {
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase() })
  const first = await bootstrap(app.db, app.bus, app.secretBox, loadConfig({}))
  t.equal(first.site?.demo, true)
  const next = await bootstrap(app.db, app.bus, app.secretBox, loadConfig({ TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN, TELEGRAM_CHAT_ID: '-1001234' }))
  t.equal(next.site?.site.id, first.site?.site.id)
  t.equal(next.site?.site.telegramChatId, '-1001234')
  t.equal(next.site && siteBotToken(app.secretBox, next.site.site), TEST_BOT_TOKEN)
  const unset = await bootstrap(app.db, app.bus, app.secretBox, loadConfig({}))
  t.equal(unset.site?.site.telegramChatId, '-1001234', 'unset variables leave what is configured')
})

t.test('a site without Telegram queues nothing', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const s = await makeSession(app, site, { firstMessage: 'hi' })
  await app.inject(sendRequest(s, { text: 'anyone?' }))
  const rows = await app.sql`select count(*)::int as n from outbox where site_id = ${site.id}`
  t.equal(rows[0]?.n, 0)
})

t.test('while Telegram fails, chat requests succeed, and after it recovers every note arrives once, with two instances', async (t) => {
  const bot = await startBotApi(t)
  bot.setMode({ kind: 'error' })
  const env = telegramEnv(bot)
  const first = await buildTestApp(t, { env })
  const second = await buildTestApp(t, { env })
  const site = await makeTelegramSite(first)
  const sessions = await Promise.all([1, 2, 3].map(() => makeSession(first, site)))
  const texts: string[] = []
  for (const [i, s] of sessions.entries()) {
    for (let n = 0; n < 4; n++) {
      const text = `message ${i}-${n}`
      texts.push(text)
      const res = await (n % 2 ? second : first).inject(sendRequest(s, { text }))
      t.equal(res.statusCode, 201)
    }
  }
  await waitFor('failed attempts', () => bot.calls.filter((c) => c.method !== 'getUpdates').length >= 6)
  t.equal(bot.sent.length, 0)
  bot.setMode({ kind: 'ok' })
  // other tests' leftovers in this file's database may be delivered here too
  const ours = () => bot.sentTo(site.chatId)
  await waitFor('every note', () => ours().length >= sessions.length + texts.length, 15_000)
  // a moment for any duplicate to show up
  await new Promise((r) => setTimeout(r, 300))
  for (const text of texts) t.equal(ours().filter((m) => m.text.includes(text)).length, 1, text)
  t.equal(ours().filter((m) => m.text.includes('New chat')).length, sessions.length)
  // each conversation's notes arrive in order
  for (const i of [0, 1, 2]) {
    const order = ours().filter((m) => m.text.includes(`message ${i}-`)).map((m) => /message \d-(\d)/.exec(m.text)?.[1])
    t.same(order, ['0', '1', '2', '3'])
  }
})

t.test('a 429 is retried no sooner than retry_after', async (t) => {
  const bot = await startBotApi(t)
  bot.setMode({ kind: 'rateLimit', retryAfter: 1 })
  const app = await buildTestApp(t, { env: telegramEnv(bot) })
  const site = await makeTelegramSite(app)
  await makeSession(app, site)
  const ours = () => bot.calls.filter((c) => String(c.params.chat_id) === site.chatId)
  const limited = await waitFor('a rate-limited call', () => ours()[0])
  bot.setMode({ kind: 'ok' })
  await waitFor('delivery', () => bot.sentTo(site.chatId).length > 0, 5000)
  const retries = ours().filter((c) => c !== limited)
  t.ok(retries.length >= 1)
  t.ok((retries[0]?.at ?? 0) - limited.at >= 950, 'waited for retry_after')
})

t.test('a Telegram that keeps answering 429 counts each as an attempt: the row is given up on at the cap, not retried for ever', async (t) => {
  const bot = await startBotApi(t)
  bot.setMode({ kind: 'rateLimit', retryAfter: 0 })
  const app = await buildTestApp(t, { env: telegramEnv(bot, { OUTBOX_MAX_ATTEMPTS: '3' }) })
  const site = await makeTelegramSite(app)
  const s = await makeSession(app, site)
  const row = await waitFor('the card given up on', async () => {
    const [r] = await app.sql<{ status: string; attempts: number; last_error: string }[]>`
      select status, attempts, last_error from outbox where session_id = ${s.id} and channel = 'telegram' and status = 'failed'`
    return r
  }, 15_000)
  t.match(row, { status: 'failed', attempts: 3, last_error: /429/ })
  await new Promise((r) => setTimeout(r, 300))
  t.equal(bot.calls.filter((c) => String(c.params.chat_id) === site.chatId).length, 3, 'three attempts, no more')
})

t.test('a Telegram that does not answer is given up on after the timeout and retried', async (t) => {
  const bot = await startBotApi(t)
  bot.setMode({ kind: 'hang' })
  const app = await buildTestApp(t, { env: telegramEnv(bot, { OUTBOX_SEND_TIMEOUT_MS: '1000' }) })
  const site = await makeTelegramSite(app)
  const s = await makeSession(app, site)
  t.equal((await app.inject(sendRequest(s, { text: 'still here' }))).statusCode, 201)
  await waitFor('a hanging call', () => bot.calls.some((c) => c.method !== 'getUpdates'))
  bot.setMode({ kind: 'ok' })
  await waitFor('both notes', () => bot.sentTo(site.chatId).length >= 2, 8000)
  t.equal(bot.sent.filter((m) => m.text.includes('still here')).length, 1)
})

t.test('a notification that keeps failing is marked failed, listed for admins, and can be retried', async (t) => {
  const bot = await startBotApi(t)
  bot.setMode({ kind: 'error' })
  const app = await buildTestApp(t, { env: telegramEnv(bot, { OUTBOX_MAX_ATTEMPTS: '2' }) })
  const admin = await makeStaff(app, 'admin')
  const site = await makeTelegramSite(app)
  await makeSession(app, site)
  const failed = await waitFor('a failed notification', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/admin/notifications?siteId=${site.id}`, headers: bearer(admin) })
    return res.json().data.notifications[0]
  })
  t.match(failed, { status: 'failed', attempts: 2, channel: 'telegram', kind: 'session.created', lastError: /500/ })
  t.notMatch(JSON.stringify(failed), TEST_BOT_TOKEN.split(':')[1], 'the bot token is not in the error')
  bot.setMode({ kind: 'ok' })
  const retry = await app.inject({ method: 'POST', url: `/api/admin/notifications/${failed.id}/retry`, headers: bearer(admin) })
  t.equal(retry.statusCode, 200)
  t.equal(retry.json().data.notification.status, 'pending')
  await waitFor('delivery', () => bot.sentTo(site.chatId).length === 1)
  const again = await app.inject({ method: 'POST', url: `/api/admin/notifications/${failed.id}/retry`, headers: bearer(admin) })
  t.equal(again.statusCode, 409)
  const agent = await makeStaff(app, 'agent')
  t.equal((await app.inject({ method: 'GET', url: '/api/admin/notifications', headers: bearer(agent) })).statusCode, 403)
})
