import t from 'tap'
import { bootstrap } from '../../../../../src/bootstrap.js'
import { loadConfig } from '../../../../../src/config.js'
import { buildTestApp, freshDatabase } from '../../../../helpers/app.js'
import { makeSession, makeSite, makeStaff, uniq } from '../../../../helpers/fixtures.js'
import { call, serve } from '../../../../helpers/http.js'

const PUB = '/api/public/chat'

t.test('a browser write from an origin the site does not allow is 403 and stores nothing; reads only lack the CORS grant', async (t) => {
  const app = await buildTestApp(t)
  const base = await serve(app)
  const site = await makeSite(app, ['https://shop.example'])
  const s = await makeSession(app, site)
  const evil = { 'x-api-key': site.apiKey, origin: 'https://evil.example' }
  const writes = [
    await call(base, `${PUB}/sessions`, { headers: evil, body: { firstMessage: 'from evil' } }),
    await call(base, `${PUB}/sessions/${s.id}/messages`, { headers: { ...evil, 'x-session-token': s.token }, body: { text: 'from evil' } }),
    await call(base, `${PUB}/notify`, { headers: evil, body: { message: 'from evil' } }),
    await call(base, `${PUB}/sessions`, { headers: { ...evil, origin: 'null' }, body: { firstMessage: 'from a sandboxed frame' } }),
  ]
  for (const res of writes) {
    t.equal(res.status, 403)
    t.equal(res.body.error?.code, 'FORBIDDEN')
    t.equal(res.headers['access-control-allow-origin'], undefined)
  }
  t.equal((await app.sql`select count(*)::int as n from chat_messages where text like 'from %'`)[0]?.n, 0, 'nothing was stored')
  const read = await call(base, `${PUB}/sessions/${s.id}/messages`, { headers: { ...evil, 'x-session-token': s.token } })
  t.equal(read.status, 200, 'a read is answered (a browser cannot see it without the grant)')
  t.equal(read.headers['access-control-allow-origin'], undefined)
  const good = await call(base, `${PUB}/sessions/${s.id}/messages`, { headers: { 'x-api-key': site.apiKey, 'x-session-token': s.token, origin: 'https://shop.example/' }, body: { text: 'hello' } })
  t.equal(good.status, 201, 'the allowed origin writes')
  t.equal(good.headers['access-control-allow-origin'], 'https://shop.example/')
  t.equal((await call(base, `${PUB}/sessions`, { headers: { 'x-api-key': site.apiKey }, body: {} })).status, 201, 'no Origin: not a browser, not refused')
})

t.test('X-API-Secret from a browser is 403 unless the site keeps legacyBrowserSecret on', async (t) => {
  const app = await buildTestApp(t)
  const base = await serve(app)
  const admin = await makeStaff(app, 'admin')
  const created = await call(base, '/api/admin/sites', { headers: { authorization: `Bearer ${admin.token}` }, body: { name: 'Shop', origins: ['https://shop.example'] } })
  t.equal(created.status, 201)
  const site = { id: (created.body.data as { site: { id: string; apiKey: string; legacyBrowserSecret: boolean } }).site.id, apiKey: (created.body.data as { site: { apiKey: string } }).site.apiKey, apiSecret: (created.body.data as { apiSecret: string }).apiSecret }
  t.equal((created.body.data as { site: { legacyBrowserSecret: boolean } }).site.legacyBrowserSecret, false, 'off for sites created through the API')
  const s = await makeSession(app, site, { firstMessage: 'hi' })
  const browser = { 'x-api-key': site.apiKey, 'x-api-secret': site.apiSecret, origin: 'https://shop.example' }
  const attempts = [
    await call(base, `${PUB}/sessions/${s.id}/messages`, { headers: browser }),
    await call(base, `${PUB}/sessions/${s.id}/messages`, { headers: browser, body: { text: 'x' } }),
    await call(base, `${PUB}/sessions`, { headers: browser, body: { userSessionId: s.userSessionId } }),
    await call(base, `${PUB}/sessions/${s.id}/messages`, { headers: { ...browser, 'x-api-secret': 'sk_wrong' } }),
    // the routes that need only the key: the guide's widget sends the secret on them too
    await call(base, `${PUB}/notify`, { headers: browser, body: { name: 'Олена', phone: '+380 67 123 45 67' } }),
    await call(base, `${PUB}/availability`, { headers: browser }),
  ]
  for (const res of attempts) {
    t.equal(res.status, 403)
    t.equal(res.body.error?.code, 'FORBIDDEN')
    t.match(res.body.error?.message, /X-API-Secret/)
  }
  const server = await call(base, `${PUB}/sessions/${s.id}/messages`, { headers: { 'x-api-key': site.apiKey, 'x-api-secret': site.apiSecret } })
  t.equal(server.status, 200, 'server to server it opens the session')

  const patched = await call(base, `/api/admin/sites/${site.id}`, { method: 'PATCH', headers: { authorization: `Bearer ${admin.token}` }, body: { legacyBrowserSecret: true } })
  t.equal(patched.status, 200)
  t.equal((patched.body.data as { site: { legacyBrowserSecret: boolean } }).site.legacyBrowserSecret, true)
  t.equal((await call(base, `${PUB}/sessions/${s.id}/messages`, { headers: browser })).status, 200, 'with the legacy setting a browser may send it')
  t.equal((await call(base, `${PUB}/sessions`, { headers: browser, body: { userSessionId: s.userSessionId } })).status, 200, 'and resume with it')
})

t.test('the bootstrap site from SITE_API_SECRET keeps the legacy setting on; the demo site allows every origin only outside production', async (t) => {
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase() })
  const key = `pk_${uniq()}`
  const legacy = await bootstrap(app.db, app.bus, app.secretBox, loadConfig({ SITE_API_KEY: key, SITE_API_SECRET: 's'.repeat(40), SITE_ORIGINS: 'https://shop.example' }))
  t.equal(legacy.site?.site.legacyBrowserSecret, true)
  const demoDev = await bootstrap(app.db, app.bus, app.secretBox, loadConfig({}))
  t.ok(demoDev.site, 'the existing site is reported')

  const prodApp = await buildTestApp(t, { databaseUrl: await freshDatabase() })
  const prod = await bootstrap(prodApp.db, prodApp.bus, prodApp.secretBox, loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'j'.repeat(32) }))
  t.same(prod.site?.site.origins, [], 'production: no origin unless SITE_ORIGINS says so')
  t.equal(prod.site?.site.legacyBrowserSecret, false)
  const devApp = await buildTestApp(t, { databaseUrl: await freshDatabase() })
  const dev = await bootstrap(devApp.db, devApp.bus, devApp.secretBox, loadConfig({}))
  t.same(dev.site?.site.origins, ['*'], 'development: the demo page works from anywhere')
  const explicit = await buildTestApp(t, { databaseUrl: await freshDatabase() })
  const star = await bootstrap(explicit.db, explicit.bus, explicit.secretBox, loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'j'.repeat(32), SITE_ORIGINS: '*' }))
  t.same(star.site?.site.origins, ['*'], 'production with SITE_ORIGINS=* set explicitly')
})
