import { randomUUID } from 'node:crypto'
import t from 'tap'
import { readMigrations } from '../../../../src/db/migrate.js'
import { buildTestApp } from '../../../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff, poll, pollRequest, startSessionRequest, type TestSite } from '../../../helpers/fixtures.js'

const sitesUrl = '/api/admin/sites'

t.test('an agent gets 403 on every site route', async (t) => {
  const app = await buildTestApp(t)
  const agent = await makeStaff(app, 'agent')
  const id = randomUUID()
  for (const route of [
    { method: 'GET' as const, url: sitesUrl },
    { method: 'POST' as const, url: sitesUrl, payload: { name: 'x', origins: [] } },
    { method: 'PATCH' as const, url: `${sitesUrl}/${id}`, payload: { name: 'y' } },
    { method: 'POST' as const, url: `${sitesUrl}/${id}/rotate` },
  ]) {
    const res = await app.inject({ ...route, headers: bearer(agent) })
    t.equal(res.statusCode, 403, `${route.method} ${route.url}`)
    t.equal(res.json().error.code, 'FORBIDDEN')
  }
})

t.test('an admin creates a site (secret shown once), lists and updates it', async (t) => {
  const app = await buildTestApp(t)
  const admin = await makeStaff(app, 'admin')
  const created = await app.inject({ method: 'POST', url: sitesUrl, headers: bearer(admin), payload: { name: 'Shop', origins: ['https://Shop.Example/', 'http://localhost:5173'] } })
  t.equal(created.statusCode, 201)
  const { site, apiSecret } = created.json().data
  t.match(site, { name: 'Shop', origins: ['https://shop.example', 'http://localhost:5173'] }, 'stored as a browser sends them: lower-case, no trailing slash')
  t.match(site.apiKey, /^pk_/)
  t.match(apiSecret, /^sk_/)
  const listed = await app.inject({ method: 'GET', url: sitesUrl, headers: bearer(admin) })
  const inList = listed.json().data.sites.find((s: { id: string }) => s.id === site.id)
  t.ok(inList)
  t.notOk(JSON.stringify(listed.json()).includes(apiSecret), 'the secret is never listed')
  t.notOk('apiSecretHash' in inList)
  const patched = await app.inject({ method: 'PATCH', url: `${sitesUrl}/${site.id}`, headers: bearer(admin), payload: { origins: ['https://new.example'] } })
  t.equal(patched.statusCode, 200)
  t.same(patched.json().data.site.origins, ['https://new.example'])
  t.equal(patched.json().data.site.name, 'Shop')
  for (const payload of [{}, { origins: ['javascript:alert(1)'] }, { origins: 'https://x.example' }, { name: '' }, { apiKey: 'pk_mine' }]) {
    const bad = await app.inject({ method: 'PATCH', url: `${sitesUrl}/${site.id}`, headers: bearer(admin), payload })
    t.equal(bad.statusCode, 400, JSON.stringify(payload))
  }
  t.equal((await app.inject({ method: 'POST', url: sitesUrl, headers: bearer(admin), payload: { name: 'No origins field' } })).statusCode, 400)
  for (const id of [randomUUID(), 'nope']) {
    t.equal((await app.inject({ method: 'PATCH', url: `${sitesUrl}/${id}`, headers: bearer(admin), payload: { name: 'X' } })).statusCode, 404)
    t.equal((await app.inject({ method: 'POST', url: `${sitesUrl}/${id}/rotate`, headers: bearer(admin) })).statusCode, 404)
  }
})

t.test('rotating makes the old key and secret 401 and the new ones work; session tokens survive', async (t) => {
  const app = await buildTestApp(t)
  const admin = await makeStaff(app, 'admin')
  const created = (await app.inject({ method: 'POST', url: sitesUrl, headers: bearer(admin), payload: { name: 'Shop', origins: ['*'] } })).json().data
  const old: TestSite = { id: created.site.id, apiKey: created.site.apiKey, apiSecret: created.apiSecret }
  const s = await makeSession(app, old, { firstMessage: 'hi' })
  const rotated = await app.inject({ method: 'POST', url: `${sitesUrl}/${old.id}/rotate`, headers: bearer(admin) })
  t.equal(rotated.statusCode, 200)
  const fresh: TestSite = { id: old.id, apiKey: rotated.json().data.site.apiKey, apiSecret: rotated.json().data.apiSecret }
  t.not(fresh.apiKey, old.apiKey)
  t.not(fresh.apiSecret, old.apiSecret)
  t.equal((await app.inject(startSessionRequest(old))).statusCode, 401, 'old key')
  const oldSecret = await app.inject({ ...pollRequest(s), headers: { 'x-api-key': fresh.apiKey, 'x-api-secret': old.apiSecret } })
  t.equal(oldSecret.statusCode, 401, 'old secret')
  const newSecret = await app.inject({ ...pollRequest(s), headers: { 'x-api-key': fresh.apiKey, 'x-api-secret': fresh.apiSecret } })
  t.equal(newSecret.statusCode, 200)
  t.equal((await app.inject(startSessionRequest(fresh))).statusCode, 201, 'new key')
  t.same((await poll(app, { ...s, site: fresh })).map((m) => m.text), ['hi'], 'the visitor keeps their session with the new key')
})

t.test('a blank site name is refused like an empty one', async (t) => {
  const app = await buildTestApp(t)
  const admin = await makeStaff(app, 'admin')
  const created = await app.inject({ method: 'POST', url: sitesUrl, headers: bearer(admin), payload: { name: '   ', origins: [] } })
  t.equal(created.statusCode, 400)
  t.equal(created.json().error.code, 'VALIDATION_ERROR')
  const site = (await app.inject({ method: 'POST', url: sitesUrl, headers: bearer(admin), payload: { name: 'Shop', origins: [] } })).json().data.site
  t.equal((await app.inject({ method: 'PATCH', url: `${sitesUrl}/${site.id}`, headers: bearer(admin), payload: { name: '\t ' } })).statusCode, 400)
  t.equal((await app.inject({ method: 'GET', url: `${sitesUrl}/${site.id}`, headers: bearer(admin) })).json().data.site.name, 'Shop')
})

t.test('migration 0013 lower-cases the origins stored as typed before, so those sites\' widgets are let in', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  await app.sql`update sites set origins = array['https://Shop.Example', 'http://LOCALHOST:5173'] where id = ${site.id}`
  const [migration] = readMigrations().filter((m) => m.tag === '0013_sites_origins_lower_case')
  for (const statement of migration?.statements ?? []) await app.sql.unsafe(statement)
  const [row] = await app.sql<{ origins: string[] }[]>`select origins from sites where id = ${site.id}`
  t.same(row?.origins, ['https://shop.example', 'http://localhost:5173'])
})

