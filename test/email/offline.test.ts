import t from 'tap'
import { sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import type { ParsedMail } from 'mailparser'
import { buildTestApp, freshDatabase } from '../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff, poll, replyRequest, type TestSession } from '../helpers/fixtures.js'
import { pdf } from '../helpers/files.js'
import { smtpInbox, type Inbox } from '../helpers/smtp.js'
import { staffUpload } from '../helpers/uploads.js'
import { listen, openSocket, widgetUrl } from '../helpers/sockets.js'
import { waitFor } from '../helpers/wait.js'

// Production's away time (60 s) and flush interval; only the batch window is shortened, and
// "the visitor left a while ago" is written into the session instead of waited for.
const env = (smtpUrl: string) => ({
  SMTP_URL: smtpUrl, EMAIL_FROM: 'Chat <chat@shop.example>', EMAIL_BATCH_MS: '1500', PUBLIC_URL: 'https://chat.example', OUTBOX_RETRY_BASE_MS: '200',
})

async function leftMinutesAgo(app: FastifyInstance, s: TestSession, minutes = 2): Promise<void> {
  await app.db.execute(sql`update chat_sessions set visitor_seen_at = now() - make_interval(mins => ${minutes}) where id = ${s.id}`)
}

async function emailRows(app: FastifyInstance, s: TestSession) {
  return app.db.execute<{ status: string; kind: string; attempts: number; last_error: string | null }>(
    sql`select status, kind, attempts, last_error from outbox where channel = 'email' and session_id = ${s.id} order by id`)
}

const allSent = (app: FastifyInstance, s: TestSession, count: number) =>
  waitFor(`${count} email rows settled`, async () => {
    const rows = await emailRows(app, s)
    return rows.length === count && rows.every((r) => r.status !== 'pending') ? rows : undefined
  })

/** A header as sent (mailparser turns List-* headers into objects). */
const rawHeader = (mail: ParsedMail, name: string) =>
  mail.headerLines.find((h) => h.key === name.toLowerCase())?.line.replace(/^[^:]+:\s*/, '')

const resumeToken = (mail: ParsedMail) => /#chat_resume=(rl_[\w-]+)/.exec(mail.text ?? '')?.[1]

// one SMTP server and one app for the tests on these settings; each test starts with an empty
// inbox that accepts (every test waits until its own emails are settled before it ends)
const sharedInbox = await smtpInbox(t)
const sharedApp = await buildTestApp(t, { env: env(sharedInbox.url) })
function shared(): { inbox: Inbox; app: FastifyInstance } {
  sharedInbox.mails.length = 0
  sharedInbox.recipients.length = 0
  sharedInbox.answer = 'accept'
  return { inbox: sharedInbox, app: sharedApp }
}

t.test('replies to an away visitor within the batch window arrive as one email, in plain text and HTML, with the site name, List-Unsubscribe and no tracking', async (t) => {
  const { inbox, app } = shared()
  const site = await makeSite(app, ['https://shop.example'])
  const siteName = (await app.db.execute<{ name: string }>(sql`select name from sites where id = ${site.id}`))[0]?.name
  const s = await makeSession(app, site, { email: 'olena@example.com', pageUrl: 'https://shop.example/cart?step=2', firstMessage: 'Do you ship to Lviv?', locale: 'en' })
  await leftMinutesAgo(app, s)
  const agent = await makeStaff(app, 'agent', 'Taras')
  await app.inject(replyRequest(agent, s.id, 'Yes, in two days.'))
  await app.inject(replyRequest(agent, s.id, 'Free shipping over 500 <UAH> & more.'))
  const mail = await inbox.nth(1)
  await allSent(app, s, 2)
  t.equal(inbox.mails.length, 1, 'one email for both replies')
  t.same(inbox.recipients[0], ['olena@example.com'])
  t.equal(mail.subject, `New reply from ${siteName}`)
  t.same(mail.from?.value, [{ address: 'chat@shop.example', name: siteName }], 'from the site, by name')
  t.match(mail.text, /Taras[^\n]*:\nYes, in two days\.[\s\S]*Free shipping over 500 <UAH> & more\./, 'plain text part with both replies')
  t.notMatch(mail.text, /Do you ship to Lviv/, 'the visitor\'s own message is not sent back')
  t.match(mail.html, /Yes, in two days\./)
  t.match(mail.html, /Free shipping over 500 &#60;UAH&#62; &#38; more\./, 'HTML part, escaped')
  t.notMatch(String(mail.html), /<img|<script|url\(/i, 'no images, pixels or remote resources')
  const unsubscribe = String(rawHeader(mail, 'List-Unsubscribe'))
  t.match(unsubscribe, new RegExp(`^<https://chat\\.example/api/public/chat/sessions/${s.id}/unsubscribe\\?token=us_[\\w-]+>$`))
  t.equal(rawHeader(mail, 'List-Unsubscribe-Post'), 'List-Unsubscribe=One-Click')
  t.match(mail.text, /https:\/\/shop\.example\/cart\?step=2#chat_resume=rl_/, 'the link opens the page the chat started on')
  t.ok(resumeToken(mail))
})

t.test('a reply that is only a file is emailed with the file\'s name and size, not as an empty message', async (t) => {
  const { inbox, app } = shared()
  const s = await makeSession(app, await makeSite(app), { email: 'olena@example.com', firstMessage: 'Send me the invoice', locale: 'en' })
  await leftMinutesAgo(app, s)
  const agent = await makeStaff(app, 'agent', 'Taras')
  const file = await staffUpload(app, agent, s.id, pdf(), 'invoice-42.pdf')
  const res = await app.inject({ ...replyRequest(agent, s.id, ''), payload: { text: '', attachments: [file.id] } })
  t.equal(res.statusCode, 201)
  const mail = await inbox.nth(1)
  await allSent(app, s, 1)
  t.match(mail.text, new RegExp(`Taras[^\\n]*:\\nFile: invoice-42\\.pdf \\(${file.size} B\\)\\n`), 'plain text part names the file')
  t.match(mail.html, new RegExp(`>File: invoice-42\\.pdf \\(${file.size} B\\)</div>`), 'HTML part names the file')
  t.notMatch(mail.text, /\/api\/files\//, 'no signed link: it would expire before the mail is read')
})

t.test('the link reopens the conversation once, in any browser, for its own site only', async (t) => {
  const { inbox, app } = shared()
  const site = await makeSite(app, ['https://shop.example'])
  const s = await makeSession(app, site, { email: 'olena@example.com', firstMessage: 'hello' })
  await leftMinutesAgo(app, s)
  await app.inject(replyRequest(await makeStaff(app), s.id, 'We are here'))
  const mail = await inbox.nth(1)
  t.match(mail.text, /https:\/\/shop\.example\/#chat_resume=/, 'no page known: the site\'s origin')
  const token = resumeToken(mail)
  const resume = (apiKey: string, body: unknown) => app.inject({ method: 'POST', url: '/api/public/chat/resume', headers: { 'x-api-key': apiKey }, payload: body as object })
  const other = await makeSite(app)
  t.equal((await resume(other.apiKey, { token })).statusCode, 401, 'another site\'s key')
  const ok = await resume(site.apiKey, { token })
  t.equal(ok.statusCode, 200)
  const data = ok.json().data
  t.equal(data.sessionId, s.id)
  t.match(data.session, { id: s.id, hasEmail: true, rating: null })
  t.same(data.messages.map((m: { text: string }) => m.text), ['hello', 'We are here'])
  t.same((await poll(app, { ...s, token: data.token })).map((m) => m.seq), [1, 2], 'the token it gives opens the session')
  const again = await resume(site.apiKey, { token })
  t.equal(again.statusCode, 401, 'used once')
  t.match(again.json().error, { code: 'UNAUTHORIZED', message: 'This link has been used or has expired' })
  for (const body of [{}, { token: '' }, { token: 'x'.repeat(200) }, { token: 1 }, { token, extra: 1 }]) {
    t.equal((await resume(site.apiKey, body)).statusCode, 400, JSON.stringify(body).slice(0, 40))
  }
  t.equal((await resume('pk_unknown', { token: 'rl_x' })).statusCode, 401, 'unknown key')
})

t.test('a visitor who is present (polling) gets no email', async (t) => {
  const { inbox, app } = shared()
  const s = await makeSession(app, await makeSite(app), { email: 'olena@example.com', firstMessage: 'hello' })
  await leftMinutesAgo(app, s)
  await poll(app, s)
  // the poll is written with the instance's next flush of visitors it heard from, up to a whole
  // VISITOR_SEEN_FLUSH_MS away (production's 10 s, waitFor's default bound): waited for with room
  await waitFor('the poll to be recorded', async () => (await app.db.execute<{ recent: boolean }>(
    sql`select visitor_seen_at > now() - interval '30 seconds' as recent from chat_sessions where id = ${s.id}`))[0]?.recent,
  app.config.email.visitorSeenFlushMs + 5_000)
  await app.inject(replyRequest(await makeStaff(app), s.id, 'Here you go'))
  t.same(await emailRows(app, s), [], 'nothing queued')
  t.equal(inbox.mails.length, 0)
})

t.test('across instances: an open widget socket on one keeps the visitor present for replies written on another; after it closes, replies are emailed', async (t) => {
  const inbox = await smtpInbox(t)
  const databaseUrl = await freshDatabase()
  // a short away time, waited for for real: the socket's close must count from when it happened
  const awayEnv = { ...env(inbox.url), VISITOR_AWAY_MS: '1500', VISITOR_SEEN_FLUSH_MS: '200' }
  const a = await buildTestApp(t, { env: awayEnv, databaseUrl })
  const b = await buildTestApp(t, { env: awayEnv, databaseUrl })
  const s = await makeSession(a, await makeSite(a), { email: 'olena@example.com', firstMessage: 'hello' })
  await leftMinutesAgo(a, s)
  const socket = await openSocket(t, widgetUrl(await listen(b), s))
  await socket.waitForSeq(1)
  await waitFor('instance b to vouch for its socket', async () => (await a.db.execute<{ recent: boolean }>(
    sql`select visitor_seen_at > now() - interval '30 seconds' as recent from chat_sessions where id = ${s.id}`))[0]?.recent)
  const agent = await makeStaff(a)
  await a.inject(replyRequest(agent, s.id, 'Seen live'))
  t.same(await emailRows(a, s), [], 'no email while the socket is open')
  await new Promise((r) => setTimeout(r, 1600))
  t.same(await emailRows(a, s), [], 'the open socket kept the visitor present past the away time')
  const closing = Date.now()
  socket.close()
  await waitFor('b to notice the close', () => b.hub.widgetSocketCount === 0)
  // the close is recorded with b's next flush, and then b writes nothing more for this visitor:
  // wait for a time from after the close began that stays put over two flushes. (Compared with
  // a time taken once b had noticed the close, a starved test process could take that after
  // b's flush, and no write ever matched it.) Then the visitor stays away past VISITOR_AWAY_MS.
  const seenAt = async () => (await a.db.execute<{ at: number }>(sql`select (extract(epoch from visitor_seen_at) * 1000)::float8 as at from chat_sessions where id = ${s.id}`))[0]?.at ?? 0
  let previous = 0
  await waitFor('the close to be recorded, and nothing after it', async () => {
    await new Promise((r) => setTimeout(r, 500))
    const at = await seenAt()
    const settled = at === previous && at >= closing
    previous = at
    return settled
  })
  await new Promise((r) => setTimeout(r, 1700))
  await a.inject(replyRequest(agent, s.id, 'Are you still there?'))
  const mail = await inbox.nth(1)
  t.match(mail.text, /Are you still there\?/)
  t.notMatch(mail.text, /Seen live/, 'what the visitor saw live is not emailed')
})

t.test('unsubscribing (one click) stops offline emails for the conversation; the GET only asks', async (t) => {
  const { inbox, app } = shared()
  const s = await makeSession(app, await makeSite(app), { email: 'olena@example.com', firstMessage: 'hello', locale: 'uk' })
  await leftMinutesAgo(app, s)
  const agent = await makeStaff(app)
  await app.inject(replyRequest(agent, s.id, 'First answer'))
  const mail = await inbox.nth(1)
  t.match(mail.subject, /^Нова відповідь від /, 'in the visitor\'s language')
  const url = new URL(String(rawHeader(mail, 'List-Unsubscribe')).slice(1, -1))
  const path = url.pathname + url.search
  const asked = await app.inject({ method: 'GET', url: path })
  t.equal(asked.statusCode, 200)
  t.match(asked.headers['content-type'], /^text\/html/)
  t.match(asked.body, /<form method="post"/)
  t.match(asked.body, /<title>Більше не надсилати листів про цю розмову\?<\/title>/, 'the page is titled by its question alone, not also the button')
  t.equal((await app.inject({ method: 'GET', url: path.replace(/token=[^&]+/, 'token=us_wrong') })).statusCode, 401)
  const done = await app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' })
  t.equal(done.statusCode, 200)
  t.match(done.body, /<title>Готово: листів про цю розмову більше не буде\.<\/title>/)
  await leftMinutesAgo(app, s)
  await app.inject(replyRequest(agent, s.id, 'Second answer'))
  t.equal((await emailRows(app, s)).length, 1, 'nothing more is queued after unsubscribing')
})

t.test('a refusing SMTP server: 4xx is retried until accepted, 5xx fails the row at once and it is listed as a failed notification', async (t) => {
  const { inbox, app } = shared()
  const site = await makeSite(app)
  const admin = await makeStaff(app, 'admin')
  inbox.answer = 451
  const s1 = await makeSession(app, site, { email: 'olena@example.com', firstMessage: 'hello' })
  await leftMinutesAgo(app, s1)
  await app.inject(replyRequest(admin, s1.id, 'Retried answer'))
  await waitFor('a refused attempt', async () => (await emailRows(app, s1))[0]?.last_error?.includes('451'))
  inbox.answer = 'accept'
  t.match((await inbox.nth(1)).text, /Retried answer/)
  const [row] = await allSent(app, s1, 1)
  t.match(row, { status: 'done' })
  t.ok((row?.attempts ?? 0) >= 2, 'after more than one attempt')

  inbox.answer = 550
  const s2 = await makeSession(app, site, { email: 'nobody@example.com', firstMessage: 'hello' })
  await leftMinutesAgo(app, s2)
  await app.inject(replyRequest(admin, s2.id, 'Never delivered'))
  const [failed] = await allSent(app, s2, 1)
  t.match(failed, { status: 'failed', attempts: 1, last_error: 'SMTP server answered 550' })
  const list = await app.inject({ method: 'GET', url: '/api/admin/notifications?channel=email', headers: bearer(admin) })
  t.equal(list.statusCode, 200)
  t.match(list.json().data.notifications, [{ channel: 'email', kind: 'offline.replies', status: 'failed', sessionId: s2.id, lastError: 'SMTP server answered 550' }])
})

t.test('without SMTP_URL no email is queued', async (t) => {
  const app = await buildTestApp(t)
  const s = await makeSession(app, await makeSite(app), { email: 'olena@example.com', firstMessage: 'hello' })
  await leftMinutesAgo(app, s)
  await app.inject(replyRequest(await makeStaff(app), s.id, 'hi'))
  t.same(await emailRows(app, s), [])
})
