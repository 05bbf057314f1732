import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../../../../helpers/app.js'
import { makeSession, makeSite, makeStaff, replyRequest, sessionHeaders, type TestSession } from '../../../../helpers/fixtures.js'
import { png } from '../../../../helpers/files.js'
import { smtpInbox } from '../../../../helpers/smtp.js'
import { visitorUpload } from '../../../../helpers/uploads.js'

const post = (app: FastifyInstance, s: TestSession, headers: Record<string, string> = sessionHeaders(s)) =>
  app.inject({ method: 'POST', url: `/api/public/chat/sessions/${s.id}/transcript`, headers })
const download = (app: FastifyInstance, s: TestSession, headers: Record<string, string> = sessionHeaders(s)) =>
  app.inject({ method: 'GET', url: `/api/public/chat/sessions/${s.id}/transcript`, headers })

t.test('the visitor gets the conversation by email (202) and as a text download', async (t) => {
  const inbox = await smtpInbox(t)
  const app = await buildTestApp(t, { env: { SMTP_URL: inbox.url, EMAIL_FROM: 'chat@shop.example' } })
  const site = await makeSite(app)
  const s = await makeSession(app, site, { email: 'olena@example.com', name: 'Olena', firstMessage: 'Two lines:\nsecond line', locale: 'en' })
  await app.inject(replyRequest(await makeStaff(app, 'agent', 'Taras'), s.id, 'Hello <b>Olena</b>'))
  const res = await post(app, s)
  t.equal(res.statusCode, 202)
  t.same(res.json(), { success: true, data: { queued: true } })
  const mail = await inbox.nth(1)
  t.match(mail.subject, /^Your conversation with site-/)
  t.match(mail.text, /You: Two lines:\n {4}second line/)
  t.match(mail.text, /Taras: Hello <b>Olena<\/b>/)
  t.match(mail.html, /Hello &#60;b&#62;Olena&#60;\/b&#62;/, 'escaped in HTML')
  t.notMatch(String(mail.html), /<img/i)
  t.match(mail.headerLines.find((h) => h.key === 'list-unsubscribe')?.line, /unsubscribe\?token=us_/)

  const text = await download(app, s)
  t.equal(text.statusCode, 200)
  t.equal(text.headers['content-type'], 'text/plain; charset=utf-8')
  t.match(text.headers['content-disposition'], /^attachment; filename="chat-\d{4}-\d\d-\d\d\.txt"$/)
  t.match(text.body, /^Conversation with site-\w+\nStarted \d{4}-\d\d-\d\d \d\d:\d\d UTC\n\n\[[^\]]+ UTC\] You: Two lines:\n {4}second line\n\[[^\]]+ UTC\] Taras: Hello <b>Olena<\/b>\n$/)
  const secret = await download(app, s, { 'x-api-key': site.apiKey, 'x-api-secret': site.apiSecret })
  t.equal(secret.statusCode, 200, 'site back ends may fetch it with the secret')
})

t.test('files sent in the conversation are listed by name and size in the download and the email', async (t) => {
  const inbox = await smtpInbox(t)
  const app = await buildTestApp(t, { env: { SMTP_URL: inbox.url } })
  const site = await makeSite(app)
  const s = await makeSession(app, site, { email: 'olena@example.com', firstMessage: 'hi', locale: 'uk' })
  const first = await visitorUpload(app, s, png(), 'screen.png')
  const second = await visitorUpload(app, s, png(8, 8), 'знімок.png')
  const sent = await app.inject({ method: 'POST', url: `/api/public/chat/sessions/${s.id}/messages`, headers: sessionHeaders(s), payload: { text: 'Look:', attachments: [first.id, second.id] } })
  t.equal(sent.statusCode, 201)
  const text = (await download(app, s)).body
  t.match(text, new RegExp(`\\] Ви: Look:\\n {4}Файл: screen\\.png \\(${first.size} B\\)\\n {4}Файл: знімок\\.png \\(${second.size} B\\)\\n$`))
  t.equal((await post(app, s)).statusCode, 202)
  const mail = await inbox.nth(1)
  t.match(mail.text, /Файл: screen\.png[\s\S]*Файл: знімок\.png/)
  t.match(mail.html, /Look:\nФайл: screen\.png/)
})

t.test('transcript errors: no email 400, no SMTP 503, wrong credentials 401, another site 404, five an hour per session and address, twenty per IP', async (t) => {
  const inbox = await smtpInbox(t)
  const app = await buildTestApp(t, { env: { SMTP_URL: inbox.url } })
  const site = await makeSite(app)
  const noEmail = await makeSession(app, site, { firstMessage: 'hi' })
  const res = await post(app, noEmail)
  t.equal(res.statusCode, 400)
  t.match(res.json().error, { code: 'VALIDATION_ERROR', message: /no email/ })
  const s = await makeSession(app, site, { email: 'olena@example.com', firstMessage: 'hi' })
  t.equal((await post(app, s, { 'x-api-key': site.apiKey })).statusCode, 401)
  t.equal((await download(app, s, { 'x-api-key': site.apiKey, 'x-session-token': 'st_x' })).statusCode, 401)
  const other = await makeSite(app)
  const foreign = { 'x-api-key': other.apiKey, 'x-api-secret': other.apiSecret }
  t.equal((await post(app, s, foreign)).statusCode, 404)
  t.equal((await download(app, s, foreign)).statusCode, 404)
  t.equal((await download(app, { ...s, id: 'not-a-uuid' })).statusCode, 401, 'a token for another id is wrong before anything is looked up')
  const codes = []
  for (let i = 0; i < 6; i++) codes.push((await post(app, s)).statusCode)
  t.same(codes, [202, 202, 202, 202, 202, 429], 'a visitor cannot use it to send mail in bulk')
  const sameAddress = await post(app, await makeSession(app, site, { email: 'Olena@Example.com', firstMessage: 'hi' }))
  t.equal(sameAddress.statusCode, 429, 'nor by making a new session for the same address')
  t.match(sameAddress.json().error, { code: 'RATE_LIMITED', message: /^At most 5 transcript emails an hour to one address/ })
  const spread = []
  for (let i = 0; i < 16; i++) spread.push((await post(app, await makeSession(app, site, { email: `to${i}@example.com`, firstMessage: 'Buy now' }))).statusCode)
  t.same(spread, [...Array(15).fill(202), 429], 'nor by spreading over addresses: 20 an hour from one client IP')
  t.ok(Number((await post(app, s)).headers['retry-after']) > 0)

  const noSmtp = await buildTestApp(t)
  const site2 = await makeSite(noSmtp)
  const s2 = await makeSession(noSmtp, site2, { email: 'olena@example.com', firstMessage: 'hi' })
  const off = await post(noSmtp, s2)
  t.equal(off.statusCode, 503)
  t.match(off.json().error, { code: 'UNAVAILABLE', message: /SMTP_URL/ })
})
