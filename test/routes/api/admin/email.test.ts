import t from 'tap'
import { buildTestApp, freshDatabase } from '../../../helpers/app.js'
import { bearer, makeStaff } from '../../../helpers/fixtures.js'

const url = '/api/admin/email'

t.test('admins read the email settings, without the SMTP credentials; no token 401, an agent 403', async (t) => {
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase(), env: { SMTP_URL: 'smtp://mailer:s3cret-pass@mail.example:2525', EMAIL_FROM: 'chat@shop.example', EMAIL_BATCH_MS: '90000' } })
  const admin = await makeStaff(app, 'admin')
  const agent = await makeStaff(app, 'agent')
  t.equal((await app.inject({ method: 'GET', url })).statusCode, 401)
  t.equal((await app.inject({ method: 'GET', url, headers: bearer(agent) })).statusCode, 403)
  const res = await app.inject({ method: 'GET', url, headers: bearer(admin) })
  t.same(res.json().data.email, { enabled: true, server: 'mail.example:2525', from: 'chat@shop.example', awayAfterSeconds: 60, batchSeconds: 90, linkTtlHours: 168 })
  t.notMatch(res.body, /s3cret|mailer/, 'no user or password')
  t.equal((await app.inject({ method: 'POST', url, headers: bearer(admin), payload: {} })).statusCode, 404, 'read only')
})

t.test('without SMTP_URL email is off; the admin rate limit applies', async (t) => {
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase(), env: { RATE_LIMIT_ADMIN_PER_MINUTE: '2' } })
  const admin = await makeStaff(app, 'admin')
  const first = await app.inject({ method: 'GET', url, headers: bearer(admin) })
  t.match(first.json().data.email, { enabled: false, server: null })
  const statuses = [first.statusCode]
  for (let i = 0; i < 3; i++) statuses.push((await app.inject({ method: 'GET', url, headers: bearer(admin) })).statusCode)
  t.ok(statuses.includes(429), `over the limit: 429 (${statuses.join(', ')})`)
})
