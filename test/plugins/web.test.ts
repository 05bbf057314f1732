import { gunzipSync } from 'node:zlib'
import t from 'tap'
import { ensureSite } from '../../src/chat/sites.js'
import { WIDGET_BUDGETS } from '../../src/web/build.js'
import { buildTestApp } from '../helpers/app.js'
import { makeSite } from '../helpers/fixtures.js'

t.test('widget.js is short-cached with an ETag, open to every origin, and answers 304 when unchanged', async (t) => {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/widget.js' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/javascript/)
  t.equal(res.headers['cache-control'], 'public, max-age=300')
  t.equal(res.headers['access-control-allow-origin'], '*')
  const etag = String(res.headers.etag)
  t.match(etag, /^"[\w-]+"$/)
  const again = await app.inject({ method: 'GET', url: '/widget.js', headers: { 'if-none-match': etag } })
  t.equal(again.statusCode, 304)
  t.equal(again.body, '')
})

t.test('the widget goes over the wire gzipped within its budgets (4 kB until opened, 16 kB in all) to a client that takes gzip', async (t) => {
  const app = await buildTestApp(t)
  const get = (url: string, encoding?: string) => app.inject({ method: 'GET', url, headers: encoding === undefined ? {} : { 'accept-encoding': encoding } })
  const plain = await get('/widget.js')
  const loader = await get('/widget.js', 'gzip, deflate, br, zstd')
  t.equal(loader.headers['content-encoding'], 'gzip')
  t.match(loader.headers.vary, /Accept-Encoding/i)
  t.ok(loader.rawPayload.length <= WIDGET_BUDGETS.loaderGzipBytes, `loader: ${loader.rawPayload.length} B sent`)
  t.same(gunzipSync(loader.rawPayload), plain.rawPayload, 'the same script')
  const name = /widget\/(ui\.[\w-]+\.js)/.exec(plain.body)?.[1]
  const chunk = await get(`/widget/${name}`, 'gzip')
  t.equal(chunk.headers['content-encoding'], 'gzip')
  t.ok(loader.rawPayload.length + chunk.rawPayload.length <= WIDGET_BUDGETS.totalGzipBytes, `loader + UI: ${loader.rawPayload.length + chunk.rawPayload.length} B sent`)
  t.not(loader.headers.etag, plain.headers.etag, 'each encoding has its own ETag')
  t.equal((await app.inject({ method: 'GET', url: '/widget.js', headers: { 'accept-encoding': 'gzip', 'if-none-match': String(loader.headers.etag) } })).statusCode, 304)
  for (const refused of [undefined, 'identity', 'gzip;q=0', 'br']) {
    const res = await get('/widget.js', refused)
    t.equal(res.headers['content-encoding'], undefined, `accept-encoding: ${refused}`)
    t.same(res.rawPayload, plain.rawPayload)
  }
})

t.test('the loader names its hashed UI chunk, which is cached for a year; other names are 404', async (t) => {
  const app = await buildTestApp(t)
  const loader = (await app.inject({ method: 'GET', url: '/widget.js' })).body
  const name = /widget\/(ui\.[\w-]+\.js)/.exec(loader)?.[1]
  if (!name) throw new Error('no chunk name in the loader')
  const chunk = await app.inject({ method: 'GET', url: `/widget/${name}` })
  t.equal(chunk.statusCode, 200)
  t.equal(chunk.headers['cache-control'], 'public, max-age=31536000, immutable')
  t.equal(chunk.headers['access-control-allow-origin'], '*')
  t.equal((await app.inject({ method: 'GET', url: '/widget/other.js' })).statusCode, 404)
})

t.test('a loader cached before a deploy still gets a chunk, the current one, not cached under the old name', async (t) => {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/widget/ui.from-last-deploy.js' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-cache')
  t.match(res.body, /export\s*\{/, 'the chat UI module')
})

t.test('the dashboard page loads only its own hashed script and stylesheet, under the CSP', async (t) => {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/admin' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-security-policy'], /script-src 'self'/)
  t.notMatch(res.body, /<script>/, 'no inline script')
  const [js, css] = [/src="\/admin\/(app\.[\w-]+\.js)"/, /href="\/admin\/(app\.[\w-]+\.css)"/].map((re) => re.exec(res.body)?.[1])
  for (const file of [js, css]) {
    const asset = await app.inject({ method: 'GET', url: `/admin/${file}` })
    t.equal(asset.statusCode, 200, `${file} is served`)
    t.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable')
  }
})

t.test('the demo page embeds the widget with the oldest site key and links to the dashboard', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const res = await app.inject({ method: 'GET', url: '/' })
  t.equal(res.statusCode, 200)
  t.match(res.body, `<script src="/widget.js" data-api-key="${site.apiKey}"`)
  t.match(res.body, 'href="/admin"')
  t.match(res.body, /server console/)
})

t.test('the demo page uses the SITE_API_KEY site when one is configured', async (t) => {
  const app = await buildTestApp(t, { env: { SITE_API_KEY: 'pk_demo_key_for_web_test' } })
  await makeSite(app)
  await ensureSite(app.db, app.secretBox, { name: 'Main site', apiKey: 'pk_demo_key_for_web_test', origins: ['*'] })
  t.match((await app.inject({ method: 'GET', url: '/' })).body, 'data-api-key="pk_demo_key_for_web_test"')
})

t.test('there is no demo page in production', async (t) => {
  const app = await buildTestApp(t, { env: { NODE_ENV: 'production' } })
  t.equal((await app.inject({ method: 'GET', url: '/' })).statusCode, 404)
  t.equal((await app.inject({ method: 'GET', url: '/widget.js' })).statusCode, 200)
})
