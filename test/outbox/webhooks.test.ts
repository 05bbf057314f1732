import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { sql } from 'drizzle-orm'
import { claimDue } from '../../src/outbox/store.js'
import { buildTestApp } from '../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff, replyRequest, sendRequest } from '../helpers/fixtures.js'
import { waitFor } from '../helpers/wait.js'

// the receivers here listen on loopback, which production refuses (see webhook-addresses.test.ts)
const fastOutbox = { OUTBOX_RETRY_BASE_MS: '20', OUTBOX_RETRY_MAX_MS: '100', OUTBOX_SEND_TIMEOUT_MS: '1000', WEBHOOK_ALLOW_PRIVATE: 'true' }

type Received = { at: number; headers: IncomingHttpHeaders; body: string; json: { id: string; type: string; createdAt: string; siteId: string; data: Record<string, unknown> } }

/** A webhook receiver; answers `failFirst` requests with 500, then 204. */
async function startReceiver(t: { teardown: (fn: () => unknown) => void }, failFirst = 0) {
  const received: Received[] = []
  let requests = 0
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      requests++
      if (requests <= failFirst) return res.writeHead(500).end('down')
      received.push({ at: Date.now(), headers: req.headers, body, json: JSON.parse(body) })
      return res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, received, requests: () => requests }
}

/** What the README tells receivers to do. */
function verify(secret: string, headers: IncomingHttpHeaders, body: string, now = Date.now()): boolean {
  const timestamp = Number(headers['x-webhook-timestamp'])
  if (!Number.isFinite(timestamp) || Math.abs(now / 1000 - timestamp) > 300) return false
  const expected = Buffer.from('v1=' + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex'))
  const given = Buffer.from(String(headers['x-webhook-signature'] ?? ''))
  return given.length === expected.length && timingSafeEqual(given, expected)
}

t.test('session and message events arrive in order, signed with the secret shown once', async (t) => {
  const receiver = await startReceiver(t)
  const app = await buildTestApp(t, { env: fastOutbox })
  const admin = await makeStaff(app, 'admin')
  const site = await makeSite(app)
  const created = await app.inject({ method: 'POST', url: `/api/admin/sites/${site.id}/webhooks`, headers: bearer(admin), payload: { url: receiver.url } })
  t.equal(created.statusCode, 201)
  const { webhook, secret } = created.json().data
  t.same(webhook.events, ['session.created', 'message.created', 'session.closed', 'session.erased'])
  const listed = await app.inject({ method: 'GET', url: `/api/admin/sites/${site.id}/webhooks`, headers: bearer(admin) })
  t.notMatch(listed.body, secret)
  t.equal(listed.json().data.webhooks[0].secretHint, `…${secret.slice(-4)}`)

  const s = await makeSession(app, site, { firstMessage: 'hi', name: 'Ann' })
  await app.inject(replyRequest(admin, s.id, 'hello Ann'))
  await app.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/close`, headers: bearer(admin) })
  await waitFor('four events', () => receiver.received.length >= 4)
  t.same(receiver.received.map((r) => r.json.type), ['session.created', 'message.created', 'message.created', 'session.closed'])
  for (const r of receiver.received) {
    t.ok(verify(secret, r.headers, r.body), `${r.json.type} verifies`)
    t.notOk(verify('whsec_wrong', r.headers, r.body), 'a wrong secret does not')
    t.equal(r.headers['x-webhook-id'], r.json.id)
    t.equal(r.json.siteId, site.id)
  }
  t.match(receiver.received[1]?.json.data, { message: { sessionId: s.id, seq: 1, sender: 'visitor', text: 'hi' } })
  t.match(receiver.received[2]?.json.data, { message: { seq: 2, sender: 'agent', senderName: 'Olena', text: 'hello Ann' } })
  t.match(receiver.received[3]?.json.data, { session: { id: s.id, status: 'closed', name: 'Ann' } })
})

t.test('at the default OUTBOX_POLL_MS, a burst of five messages reaches the receiver in order within 1 s of the last one\'s commit', async (t) => {
  const receiver = await startReceiver(t)
  t.notOk('OUTBOX_POLL_MS' in fastOutbox, 'the default poll interval (1 s)')
  const app = await buildTestApp(t, { env: fastOutbox })
  const admin = await makeStaff(app, 'admin')
  const site = await makeSite(app)
  await app.inject({ method: 'POST', url: `/api/admin/sites/${site.id}/webhooks`, headers: bearer(admin), payload: { url: receiver.url, events: ['message.created'] } })
  const s = await makeSession(app, site)
  const lines = [1, 2, 3, 4, 5].map((n) => `line ${n}`)
  let lastCreatedAt = 0
  for (const text of lines) {
    const res = await app.inject(sendRequest(s, { text }))
    // stamped by Postgres in the storing statement, so no later than its commit
    lastCreatedAt = Date.parse(res.json().data.message.createdAt)
  }
  await waitFor('five events', () => receiver.received.length === 5, 5000)
  const tookMs = Math.max(...receiver.received.map((r) => r.at)) - lastCreatedAt
  t.ok(tookMs < 1000, `the last event arrived ${tookMs} ms after its commit`)
  t.same(receiver.received.map((r) => (r.json.data.message as { text: string }).text), lines, 'in order')
})

t.test('a failing receiver gets the same event again until it accepts, and the log shows the attempts', async (t) => {
  const receiver = await startReceiver(t, 2)
  const app = await buildTestApp(t, { env: fastOutbox })
  const admin = await makeStaff(app, 'admin')
  const site = await makeSite(app)
  const created = await app.inject({
    method: 'POST', url: `/api/admin/sites/${site.id}/webhooks`, headers: bearer(admin), payload: { url: receiver.url, events: ['message.created'] },
  })
  const { webhook, secret } = created.json().data
  const s = await makeSession(app, site)
  const sent = await app.inject(sendRequest(s, { text: 'ping' }))
  const [event] = await waitFor('the event', () => receiver.received.length === 1 && receiver.received)
  t.equal(receiver.requests(), 3)
  t.ok(event && verify(secret, event.headers, event.body))
  t.equal(event?.json.type, 'message.created')
  t.match(event?.json.data, { message: { id: sent.json().data.message.id, text: 'ping' } })
  const log = await waitFor('a settled log', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/admin/sites/${site.id}/webhooks/${webhook.id}/deliveries`, headers: bearer(admin) })
    const [row] = res.json().data.deliveries
    return row?.status === 'done' && res.json().data.deliveries
  })
  t.equal(log.length, 1, 'only subscribed events')
  t.match(log[0], { status: 'done', attempts: 3, kind: 'message.created', eventId: event?.json.id })
})

t.test('webhooks can be removed, and only admins manage them', async (t) => {
  const app = await buildTestApp(t, { env: fastOutbox })
  const admin = await makeStaff(app, 'admin')
  const agent = await makeStaff(app, 'agent')
  const site = await makeSite(app)
  const url = `/api/admin/sites/${site.id}/webhooks`
  t.equal((await app.inject({ method: 'POST', url, headers: bearer(agent), payload: { url: 'https://example.com/h' } })).statusCode, 403)
  t.equal((await app.inject({ method: 'POST', url, headers: bearer(admin), payload: { url: 'ftp://example.com/h' } })).statusCode, 400)
  t.equal((await app.inject({ method: 'POST', url, headers: bearer(admin), payload: { url: 'https://example.com/h', events: ['nope'] } })).statusCode, 400)
  const { webhook } = (await app.inject({ method: 'POST', url, headers: bearer(admin), payload: { url: 'https://example.com/h' } })).json().data
  const removed = await app.inject({ method: 'DELETE', url: `${url}/${webhook.id}`, headers: bearer(admin) })
  t.equal(removed.statusCode, 200)
  t.same((await app.inject({ method: 'GET', url, headers: bearer(admin) })).json().data.webhooks, [])
  t.equal((await app.inject({ method: 'DELETE', url: `${url}/${webhook.id}`, headers: bearer(admin) })).statusCode, 404)
})

t.test('an instance with OUTBOX_DELIVERY=false queues the events but sends none; an instance that delivers sends them', async (t) => {
  const receiver = await startReceiver(t)
  // polling every 10 ms, and woken by its own message event, were its worker running
  const web = await buildTestApp(t, { env: { ...fastOutbox, OUTBOX_DELIVERY: 'false', OUTBOX_POLL_MS: '10' } })
  const admin = await makeStaff(web, 'admin')
  const site = await makeSite(web)
  const url = `/api/admin/sites/${site.id}/webhooks`
  const { webhook } = (await web.inject({ method: 'POST', url, headers: bearer(admin), payload: { url: receiver.url, events: ['message.created'] } })).json().data
  const s = await makeSession(web, site)
  t.equal((await web.inject(sendRequest(s, { text: 'queued' }))).statusCode, 201)
  const deliveries = async () => (await web.inject({ method: 'GET', url: `${url}/${webhook.id}/deliveries`, headers: bearer(admin) })).json().data.deliveries
  // a negative can only be watched for a while: 30 of the web instance's poll intervals
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(receiver.requests(), 0, 'the web-only instance sent nothing')
  t.match(await deliveries(), [{ status: 'pending', attempts: 0, kind: 'message.created' }], 'the event waits in the outbox')

  await buildTestApp(t, { env: fastOutbox })
  const [event] = await waitFor('the event, from the delivering instance', () => receiver.received.length === 1 && receiver.received)
  t.match(event?.json.data, { message: { text: 'queued' } })
  await waitFor('the row marked done', async () => (await deliveries())[0]?.status === 'done')
})

t.test('a removed webhook takes its queued deliveries with it; a due row whose webhook or site is gone is dropped, not sent', async (t) => {
  // no worker here: the rows stay queued until claimDue is called by hand
  const app = await buildTestApp(t, { env: { ...fastOutbox, OUTBOX_DELIVERY: 'false' } })
  const admin = await makeStaff(app, 'admin')
  const site = await makeSite(app)
  const url = `/api/admin/sites/${site.id}/webhooks`
  const create = async () => (await app.inject({ method: 'POST', url, headers: bearer(admin), payload: { url: 'https://example.com/h', events: ['message.created'] } })).json().data.webhook as { id: string }
  const [removed, orphaned, kept] = [await create(), await create(), await create()]
  const s = await makeSession(app, site)
  t.equal((await app.inject(sendRequest(s, { text: 'queued for three' }))).statusCode, 201)
  const rowsOf = async (webhookId: string) => (await app.db.execute<{ id: string }>(sql`select id from outbox where webhook_id = ${webhookId}`)).length
  t.same([await rowsOf(removed.id), await rowsOf(orphaned.id), await rowsOf(kept.id)], [1, 1, 1], 'one row per webhook')

  t.equal((await app.inject({ method: 'DELETE', url: `${url}/${removed.id}`, headers: bearer(admin) })).statusCode, 200)
  t.equal(await rowsOf(removed.id), 0, 'the API deletion took the webhook\'s row')
  // what the previous release's deletion does during a rolling upgrade (it relied on the dropped cascade)
  await app.db.execute(sql`delete from webhooks where id = ${orphaned.id}`)
  t.equal(await rowsOf(orphaned.id), 1)
  const [unknownSite] = await app.db.execute<{ id: string }>(sql`
    insert into outbox (site_id, channel, kind, payload) values (gen_random_uuid(), 'telegram', 'notify', '{}'::jsonb) returning id`)

  const claimed = await claimDue(app.db, 50, 60_000)
  t.same(claimed.filter((r) => r.webhookId !== null).map((r) => r.webhookId), [kept.id], 'only the live webhook\'s row is claimed')
  t.notOk(claimed.some((r) => String(r.id) === unknownSite?.id), 'the row of a site that is gone is not claimed')
  t.equal(await rowsOf(orphaned.id), 0, 'the row whose webhook is gone was dropped')
  t.same(await app.db.execute(sql`select 1 from outbox where id = ${unknownSite?.id}`), [], 'the row whose site is gone was dropped')
  t.equal(await rowsOf(kept.id), 1)
})

t.test('erasing a session takes its outbox rows, queued and delivered; those a previous release\'s erasure leaves are dropped when due and pruned when finished', async (t) => {
  // no worker here: the rows stay queued until claimDue is called by hand
  const app = await buildTestApp(t, { env: { ...fastOutbox, OUTBOX_DELIVERY: 'false' } })
  const admin = await makeStaff(app, 'admin')
  const site = await makeSite(app)
  t.equal((await app.inject({ method: 'POST', url: `/api/admin/sites/${site.id}/webhooks`, headers: bearer(admin), payload: { url: 'https://example.com/h', events: ['session.created', 'message.created'] } })).statusCode, 201)
  const sessionWith = async (secret: string) => {
    const s = await makeSession(app, site, { name: `Olena ${secret}` })
    t.equal((await app.inject(sendRequest(s, { text: `my card number is ${secret}` }))).statusCode, 201)
    // one delivered, one still queued
    await app.db.execute(sql`update outbox set status = 'done', done_at = now() where id = (select min(id) from outbox where session_id = ${s.id})`)
    return s
  }
  // secrets with a space: no UUID, timestamp or token in another row's payload can contain one (a bare '5555' sometimes did)
  const leftBehind = async (secret: string) =>
    (await app.db.execute<{ status: string }>(sql`select status from outbox where payload::text like ${`%${secret}%`} order by status`)).map((r) => r.status)

  const erased = await sessionWith('4242 4242')
  const kept = await sessionWith('5555 5555')
  t.same(await leftBehind('4242 4242'), ['done', 'pending'])
  t.equal((await app.inject({ method: 'DELETE', url: `/api/chat/sessions/${erased.id}`, headers: bearer(admin) })).statusCode, 204)
  t.same(await leftBehind('4242 4242'), [], 'no payload quotes the erased session')
  t.same(await leftBehind('5555 5555'), ['done', 'pending'], 'other sessions\' rows stay')

  // what the previous release's erasure does during a rolling upgrade (it relied on the dropped cascade)
  const old = await sessionWith('6666 6666')
  await app.db.execute(sql`delete from chat_sessions where id = ${old.id}`)
  t.same(await leftBehind('6666 6666'), ['done', 'pending'])
  const claimed = await claimDue(app.db, 50, 60_000)
  t.notOk(claimed.some((r) => r.sessionId === old.id), 'the due row of a session that is gone is not claimed')
  t.ok(claimed.some((r) => r.sessionId === kept.id), 'a live session\'s row is')
  t.same(await leftBehind('6666 6666'), ['done'], 'it was dropped')
  await waitFor('a retention round of the test\'s own', () => app.retention.runOnce())
  t.same(await leftBehind('6666 6666'), [], 'the retention job deleted the delivered one')
  t.same(await leftBehind('5555 5555'), ['done', 'pending'])
})
