import t from 'tap'
import { buildTestApp, freshDatabase } from '../../../helpers/app.js'
import { bearer, makeStaff } from '../../../helpers/fixtures.js'

const url = '/api/admin/backups'

t.test('only admins read the backup settings: no token is 401, an agent 403', async (t) => {
  const app = await buildTestApp(t)
  const agent = await makeStaff(app, 'agent')
  t.equal((await app.inject({ method: 'GET', url })).statusCode, 401)
  const res = await app.inject({ method: 'GET', url, headers: bearer(agent) })
  t.equal(res.statusCode, 403)
  t.equal(res.json().error.code, 'FORBIDDEN')
  t.equal((await app.inject({ method: 'POST', url, headers: bearer(agent), payload: {} })).statusCode, 404, 'read only: nothing to post')
})

t.test('without BACKUP_DIR nothing is scheduled; with it the answer tells the schedule', async (t) => {
  const off = await buildTestApp(t, { databaseUrl: await freshDatabase() })
  const admin = await makeStaff(off, 'admin')
  t.same((await off.inject({ method: 'GET', url, headers: bearer(admin) })).json().data.backup, {
    scheduled: false, everyHours: null, keep: 7, directory: null, encrypted: false, last: null, failure: null, nextAt: null,
  })
  const on = await buildTestApp(t, { databaseUrl: await freshDatabase(), env: { BACKUP_DIR: '/nonexistent/for-this-test', BACKUP_EVERY_HOURS: '12', BACKUP_KEEP: '3', BACKUP_KEY: 'sixteen characters!' } })
  const onAdmin = await makeStaff(on, 'admin')
  const body = (await on.inject({ method: 'GET', url: `${url}?unknown=ignored`, headers: bearer(onAdmin) })).json().data.backup
  t.match(body, { scheduled: true, everyHours: 12, keep: 3, directory: '/nonexistent/for-this-test', encrypted: true, nextAt: String })
})

t.test('the admin rate limit applies', async (t) => {
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase(), env: { RATE_LIMIT_ADMIN_PER_MINUTE: '2' } })
  const admin = await makeStaff(app, 'admin')
  const statuses = []
  for (let i = 0; i < 4; i++) statuses.push((await app.inject({ method: 'GET', url, headers: bearer(admin) })).statusCode)
  t.ok(statuses.includes(429), `over the limit: 429 (${statuses.join(', ')})`)
})
