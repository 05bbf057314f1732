import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { webhooks } from '../../src/db/schema.js'
import { isPublicAddress } from '../../src/outbox/public-address.js'
import { buildTestApp } from '../helpers/app.js'
import { makeSession, makeSite, makeStaff } from '../helpers/fixtures.js'
import { call, serve } from '../helpers/http.js'
import { waitFor } from '../helpers/wait.js'

const fastOutbox = { OUTBOX_RETRY_BASE_MS: '20', OUTBOX_RETRY_MAX_MS: '100', OUTBOX_SEND_TIMEOUT_MS: '1000' }

/** A receiver on loopback that counts what reaches it. */
async function receiver(t: { teardown: (fn: () => unknown) => void }) {
  let hits = 0
  const server = createServer((_req, res) => {
    hits++
    res.writeHead(204).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { port: (server.address() as AddressInfo).port, hits: () => hits }
}

const INSIDE = [
  'http://127.0.0.1/h', 'http://127.1.2.3:8080/h', 'http://localhost:9/h', 'http://169.254.169.254/latest/meta-data/',
  'http://10.0.0.1/h', 'http://172.16.5.4/h', 'http://192.168.1.1/h', 'http://100.64.0.1/h', 'http://0.0.0.0/h',
  'http://[::1]/h', 'http://[::ffff:127.0.0.1]/h', 'http://[::ffff:a9fe:a9fe]/h', 'http://[fd00:ec2::254]/h', 'http://[fe80::1]/h',
  'http://[64:ff9b::a9fe:a9fe]/h', 'http://2130706433/h', 'http://0x7f.1/h', 'http://224.0.0.1/h', 'http://[2002:7f00:1::]/h',
  'http://[::ffff:0:127.0.0.1]/h',
]

t.test('webhooks to loopback, private, link-local, unique-local and metadata addresses are refused at creation (400)', async (t) => {
  const app = await buildTestApp(t, { env: fastOutbox })
  const base = await serve(app)
  const admin = await makeStaff(app, 'admin')
  const site = await makeSite(app)
  const create = (url: string) => call(base, `/api/admin/sites/${site.id}/webhooks`, { headers: { authorization: `Bearer ${admin.token}` }, body: { url } })
  for (const url of INSIDE) {
    const res = await create(url)
    t.equal(res.status, 400, url)
    t.equal(res.body.error?.code, 'VALIDATION_ERROR', url)
    t.match(res.body.error?.message, /public address/, url)
  }
  const outside = await create('https://93.184.215.14/hooks/chat')
  t.equal(outside.status, 201, 'a public address is accepted')
  t.same((await app.sql`select count(*)::int as n from webhooks`)[0]?.n, 1, 'only that one was stored')
})

t.test('each delivery checks the address it connects to: a webhook that points inside later is never called', async (t) => {
  const target = await receiver(t)
  const app = await buildTestApp(t, { env: fastOutbox })
  const admin = await makeStaff(app, 'admin')
  const site = await makeSite(app)
  // as if these names had resolved to a public address when the webhooks were made (DNS rebinding),
  // or were stored by a release without the check
  const [byName, byAddress] = await app.db.insert(webhooks).values([
    { siteId: site.id, url: `http://localhost:${target.port}/h`, events: ['session.created'], secret: 'whsec_test' },
    { siteId: site.id, url: `http://127.0.0.1:${target.port}/h`, events: ['session.created'], secret: 'whsec_test' },
  ]).returning()
  await makeSession(app, site)
  for (const hook of [byName, byAddress]) {
    const log = await waitFor('a settled delivery', async () => {
      const res = await app.inject({ method: 'GET', url: `/api/admin/sites/${site.id}/webhooks/${hook?.id}/deliveries`, headers: { authorization: `Bearer ${admin.token}` } })
      const [row] = res.json().data.deliveries
      return row?.status === 'failed' && row
    })
    t.match(log, { status: 'failed', attempts: 1, lastError: /^refused: .*(not a public address|non-public address)/ }, hook?.url ?? '')
  }
  t.equal(target.hits(), 0, 'no request reached the receiver')
})

t.test('WEBHOOK_ALLOW_PRIVATE=true lets local receivers through (for tests and private networks)', async (t) => {
  const target = await receiver(t)
  const app = await buildTestApp(t, { env: { ...fastOutbox, WEBHOOK_ALLOW_PRIVATE: 'true' } })
  const base = await serve(app)
  const admin = await makeStaff(app, 'admin')
  const site = await makeSite(app)
  const res = await call(base, `/api/admin/sites/${site.id}/webhooks`, { headers: { authorization: `Bearer ${admin.token}` }, body: { url: `http://127.0.0.1:${target.port}/h` } })
  t.equal(res.status, 201)
  await makeSession(app, site)
  await waitFor('the delivery', () => target.hits() === 1)
  t.pass('delivered')
})

t.test('what counts as a public address', async (t) => {
  for (const a of ['8.8.8.8', '93.184.215.14', '2606:4700::1111', '2a00:1450:4001:82a::200e', '::ffff:8.8.8.8', '::ffff:0:8.8.8.8', '64:ff9b::808:808']) t.ok(isPublicAddress(a), a)
  for (const a of ['127.0.0.1', '10.1.2.3', '172.31.255.255', '192.168.0.1', '169.254.169.254', '100.100.100.200', '0.0.0.0', '255.255.255.255',
    '198.18.0.1', '::', '::1', '::ffff:10.0.0.1', '::ffff:0:a9fe:a9fe', 'fd00::1', 'fe80::1%eth0', 'ff02::1', '2001:db8::1', '2001::1', '64:ff9b:1::1', 'not-an-ip']) t.notOk(isPublicAddress(a), a)
})

t.test('a url the pattern lets through but no URL parser takes (an IPv6 zone id) is a 400, under either policy', async (t) => {
  for (const allowPrivate of ['false', 'true']) {
    const app = await buildTestApp(t, { env: { ...fastOutbox, WEBHOOK_ALLOW_PRIVATE: allowPrivate } })
    const base = await serve(app)
    const admin = await makeStaff(app, 'admin')
    const site = await makeSite(app)
    for (const url of ['http://[fe80::1%25lo]/h', 'http://[zz]/h', 'http://a:99999/h']) {
      const res = await call(base, `/api/admin/sites/${site.id}/webhooks`, { headers: { authorization: `Bearer ${admin.token}` }, body: { url } })
      t.equal(res.status, 400, `${url} (WEBHOOK_ALLOW_PRIVATE=${allowPrivate})`)
      t.equal(res.body.error?.code, 'VALIDATION_ERROR', url)
    }
    t.same((await app.sql`select count(*)::int as n from webhooks where site_id = ${site.id}`)[0]?.n, 0, 'none was stored')
  }
})
