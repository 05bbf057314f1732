import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff, poll, replyRequest, sendRequest, type Staff } from '../helpers/fixtures.js'
import { waitFor } from '../helpers/wait.js'
import { withinBusinessHours } from '../../src/chat/bot.js'
import type { BotSettings } from '../../src/db/schema.js'

const weekdays: BotSettings['hours'] = { 1: ['09:00', '18:00'], 2: ['09:00', '18:00'], 3: ['09:00', '18:00'], 4: ['09:00', '18:00'], 5: ['09:00', '18:00'] }
const kyiv: BotSettings = { timeZone: 'Europe/Kyiv', hours: weekdays }

t.test('business hours are judged in the site time zone, per weekday', async (t) => {
  // Monday 2026-11-23: 07:30 UTC is 09:30 in Kyiv (UTC+2)
  t.ok(withinBusinessHours(kyiv, new Date('2026-11-23T07:30:00Z')))
  t.notOk(withinBusinessHours(kyiv, new Date('2026-11-23T06:30:00Z')), '08:30 local')
  t.notOk(withinBusinessHours(kyiv, new Date('2026-11-23T16:00:00Z')), '18:00 local is closing time')
  t.notOk(withinBusinessHours(kyiv, new Date('2026-11-22T10:00:00Z')), 'Sunday has no hours')
  t.ok(withinBusinessHours({ hours: { 6: ['22:00', '04:00'] } }, new Date('2026-11-28T23:30:00Z')), 'a night shift spans midnight')
  t.ok(withinBusinessHours({}, new Date('2026-11-22T03:00:00Z')), 'no hours: always open')
})

async function siteWithBot(app: FastifyInstance, admin: Staff, bot: BotSettings) {
  const site = await makeSite(app)
  const res = await app.inject({ method: 'PATCH', url: `/api/admin/sites/${site.id}`, headers: bearer(admin), payload: { bot } })
  if (res.statusCode !== 200) throw new Error(res.body)
  return site
}

t.test('no bot settings: no auto-replies', async (t) => {
  const app = await buildTestApp(t)
  const s = await makeSession(app, await makeSite(app), { firstMessage: 'hi' })
  t.same((await poll(app, s)).map((m) => m.sender), ['visitor'])
})

t.test('a new session gets the greeting after its first message, from the named bot', async (t) => {
  const app = await buildTestApp(t, { clock: () => new Date('2026-11-23T08:00:00Z') })
  const admin = await makeStaff(app, 'admin')
  const site = await siteWithBot(app, admin, { ...kyiv, name: 'Helper', greeting: 'Hi! How can we help?', offHoursText: 'We are offline.' })
  const s = await makeSession(app, site, { firstMessage: 'hello' })
  const messages = await poll(app, s)
  t.same(messages.map((m) => [m.seq, m.sender, m.senderName, m.text]), [[1, 'visitor', null, 'hello'], [2, 'bot', 'Helper', 'Hi! How can we help?']])
  const empty = await makeSession(app, site)
  t.same((await poll(app, empty)).map((m) => [m.seq, m.text]), [[1, 'Hi! How can we help?']])
})

t.test('out of hours, a new session also gets the out-of-hours reply', async (t) => {
  // Sunday
  const app = await buildTestApp(t, { clock: () => new Date('2026-11-22T12:00:00Z') })
  const admin = await makeStaff(app, 'admin')
  const site = await siteWithBot(app, admin, { ...kyiv, greeting: 'Hi!', offHoursText: 'We are offline until Monday 9:00.' })
  const s = await makeSession(app, site)
  t.same((await poll(app, s)).map((m) => [m.sender, m.senderName, m.text]), [['bot', 'Bot', 'Hi!'], ['bot', 'Bot', 'We are offline until Monday 9:00.']])
  const row = await app.sql`select first_response_at from chat_sessions where id = ${s.id}`
  t.equal(row[0]?.first_response_at, null, 'bot messages are not a first response')
})

t.test('the follow-up comes once when no agent answered within N minutes, never after an answer, also with two instances', async (t) => {
  let now = new Date()
  const app = await buildTestApp(t, { clock: () => now, env: { BOT_FOLLOW_UP_POLL_MS: '20' } })
  await buildTestApp(t, { clock: () => now, env: { BOT_FOLLOW_UP_POLL_MS: '20' } })
  const admin = await makeStaff(app, 'admin')
  const site = await siteWithBot(app, admin, { followUpMinutes: 5, followUpText: 'We will get back to you shortly.' })
  const waiting = await makeSession(app, site)
  const answered = await makeSession(app, site)
  await app.inject(sendRequest(waiting, { text: 'anyone?' }))
  await app.inject(sendRequest(answered, { text: 'anyone?' }))
  await app.inject(replyRequest(admin, answered.id, 'yes, me'))
  now = new Date(Date.now() + 4 * 60_000)
  await new Promise((r) => setTimeout(r, 150))
  t.same((await poll(app, waiting)).map((m) => m.sender), ['visitor'], 'not before N minutes')
  now = new Date(Date.now() + 6 * 60_000)
  await waitFor('the follow-up', async () => (await poll(app, waiting)).some((m) => m.sender === 'bot'))
  await new Promise((r) => setTimeout(r, 150))
  t.same((await poll(app, waiting)).map((m) => [m.sender, m.text]), [['visitor', 'anyone?'], ['bot', 'We will get back to you shortly.']])
  t.same((await poll(app, answered)).map((m) => m.sender), ['visitor', 'agent'])
})

t.test('an unknown time zone is refused', async (t) => {
  const app = await buildTestApp(t)
  const admin = await makeStaff(app, 'admin')
  const site = await makeSite(app)
  const res = await app.inject({ method: 'PATCH', url: `/api/admin/sites/${site.id}`, headers: bearer(admin), payload: { bot: { timeZone: 'Mars/Olympus' } } })
  t.equal(res.statusCode, 400)
  t.equal(res.json().error.code, 'VALIDATION_ERROR')
})
