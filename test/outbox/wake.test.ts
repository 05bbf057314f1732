import t from 'tap'
import { wakesDelivery } from '../../src/outbox/worker.js'
import type { BusEvent } from '../../src/realtime/bus.js'
import { buildTestApp, freshDatabase } from '../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff, replyRequest, sendRequest } from '../helpers/fixtures.js'
import { waitFor } from '../helpers/wait.js'

t.test("a message event says when its statement queued no outbox row, so the delivery workers are not woken for it", async (t) => {
  // no worker here: the row queued below stays for the check
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase(), env: { WEBHOOK_ALLOW_PRIVATE: 'true', OUTBOX_DELIVERY: 'false' } })
  const site = await makeSite(app)
  const admin = await makeStaff(app, 'admin')
  const events: Extract<BusEvent, { k: 'message' }>[] = []
  await app.bus.subscribe({ onEvent: (e) => void (e.k === 'message' && events.push(e)), onReconnect: () => {} })
  const s = await makeSession(app, site)
  const sent = async (res: Promise<{ statusCode: number }>, seq: number) => {
    t.equal((await res).statusCode, 201)
    return waitFor(`the event of seq ${seq}`, () => events.find((e) => e.session === s.id && e.seq === seq))
  }
  t.equal((await sent(app.inject(sendRequest(s, { text: 'no webhook yet' })), 1))?.outbox, false, 'visitor message, nothing queued')
  t.equal((await sent(app.inject(replyRequest(admin, s.id, 'reply')), 2))?.outbox, false, 'agent reply, nothing queued')
  const created = await app.inject({ method: 'POST', url: `/api/admin/sites/${site.id}/webhooks`, headers: bearer(admin), payload: { url: 'http://127.0.0.1:9/hook', events: ['message.created'] } })
  t.equal(created.statusCode, 201)
  t.equal((await sent(app.inject(sendRequest(s, { text: 'with a webhook' })), 3))?.outbox, undefined, 'a row was queued: the workers look')
  const [row] = await app.sql<{ n: number }[]>`select count(*)::int as n from outbox where session_id = ${s.id}::uuid and channel = 'webhook'`
  t.equal(row?.n, 1, 'and the row is there')
})

t.test('the delivery workers wake for an event that may have queued rows, not for one that says it queued none', async (t) => {
  const ids = { site: 's', session: 'x', seq: 1 }
  t.equal(wakesDelivery({ k: 'message', ...ids, outbox: false }), false, 'a message that queued nothing')
  t.equal(wakesDelivery({ k: 'message', ...ids }), true, 'a message without the mark (also from an older release)')
  t.equal(wakesDelivery({ k: 'session', site: 's', session: 'x' }), true, 'a session change')
  t.equal(wakesDelivery({ k: 'outbox', site: 's' }), true, 'a queued note')
  t.equal(wakesDelivery({ k: 'erased', site: 's', session: 'x' }), true, 'an erasure (its session.erased webhooks)')
  t.equal(wakesDelivery({ k: 'site', site: 's' }), false, 'a settings change')
})
