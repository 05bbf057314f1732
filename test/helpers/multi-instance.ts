/**
 * The tests every realtime bus must pass, run by one test file per bus
 * (test/realtime/postgres-bus.test.ts, test/realtime/nats-bus.test.ts): instances on one
 * database exchanging events, and what happens when an instance's bus connection drops.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from './app.js'
import { bearer, makeSession, makeSite, makeStaff, pollRequest, replyRequest, sendRequest } from './fixtures.js'
import { startBotApi } from './telegram-bot-api.js'
import { makeTelegramSite, telegramEnv } from './telegram.js'
import { dashboardUrl, listen, openDashboard, openSocket, widgetUrl } from './sockets.js'
import { waitFor } from './wait.js'
import type { BusEvent } from '../../src/realtime/bus.js'

export type BusUnderTest = {
  /** the environment that makes an app use this bus */
  env: Record<string, string>
  /** drops the bus connection of every instance listed; `restored` resolves when they can connect again */
  cut: (apps: FastifyInstance[]) => Promise<{ restored: Promise<void> }>
  /** an app on this bus whose bus brings it nothing from the network (its own events' echo included) between hold() and release() */
  heldApp: (t: Test, opts: { env: Record<string, string>; clock: () => Date }) => Promise<{ app: FastifyInstance; hold: () => Promise<void>; release: () => Promise<void> }>
}

const SITE = '00000000-0000-4000-8000-000000000001'
const SESSION = '00000000-0000-4000-8000-000000000002'
const typing: BusEvent = { k: 'typing', site: SITE, session: SESSION, from: 'visitor' }
const message: BusEvent = { k: 'message', site: SITE, session: SESSION, seq: 7 }

export function recorder() {
  const events: BusEvent[] = []
  let reconnects = 0
  return {
    events,
    reconnects: () => reconnects,
    subscriber: { onEvent: (e: BusEvent) => void events.push(e), onReconnect: () => void reconnects++ },
  }
}

export function multiInstanceTests(t: Test, bus: () => Promise<BusUnderTest>): void {
  const app = async (t: Test) => buildTestApp(t, { env: (await bus()).env })

  t.test('ephemeral and durable events published on one instance reach another, and itself, in order', async (t) => {
    const a = await app(t)
    const b = await app(t)
    const onA = recorder()
    const onB = recorder()
    await a.bus.subscribe(onA.subscriber)
    await b.bus.subscribe(onB.subscriber)
    a.bus.publish(typing)
    a.bus.publish(message)
    await waitFor('both events on B', () => onB.events.length >= 2)
    t.same(onB.events, [typing, message], 'in publishing order, as published')
    // B's own start-up word on presence may reach A before or after A subscribed
    const notPresence = () => onA.events.filter((e) => e.k !== 'presence' && e.k !== 'presence-sync')
    await waitFor('both events on A', () => notPresence().length >= 2)
    t.same(notPresence(), [typing, message])
    // A's own events reach it once, at publish: their echo (on its way before B's event below) is skipped
    const fromB: BusEvent = { k: 'site', site: SITE }
    b.bus.publish(fromB)
    await waitFor('B\'s event on A', () => notPresence().length >= 3)
    t.same(notPresence(), [typing, message, fromB], 'no echo of A\'s own events; B\'s arrives')
  })

  t.test('a Telegram reply and a bot reply stored on an instance reach its sockets while its bus brings it nothing back', async (t) => {
    const telegram = await startBotApi(t)
    let now = new Date()
    // the sweep would catch the socket up from Postgres: kept out of the way, only the hand-over at publish can deliver
    const env = telegramEnv(telegram, { BOT_FOLLOW_UP_POLL_MS: '20', WS_SWEEP_MS: '600000' })
    const { app, hold, release } = await (await bus()).heldApp(t, { env, clock: () => now })
    const admin = await makeStaff(app, 'admin')
    const site = await makeTelegramSite(app)
    const bot = { followUpMinutes: 5, followUpText: 'We will get back to you shortly.' }
    t.equal((await app.inject({ method: 'PATCH', url: `/api/admin/sites/${site.id}`, headers: bearer(admin), payload: { bot } })).statusCode, 200)
    const s = await makeSession(app, site, { name: 'Ann' })
    const card = await waitFor('the new-session card', () => telegram.sent.find((m) => m.chat_id === site.chatId && m.text.includes(s.id.slice(0, 8))))
    await waitFor('the card to be remembered', async () => (await app.sql`select 1 from telegram_messages where message_id = ${card.message_id}`).length > 0)
    t.equal((await app.inject(sendRequest(s, { text: 'anyone?' }))).statusCode, 201)
    const widget = await openSocket(t, widgetUrl(await listen(app), s))
    await widget.waitForSeq(1)
    await hold()
    // the follow-up first: it comes only while no agent has answered
    now = new Date(Date.now() + 6 * 60_000)
    await widget.waitForSeq(2)
    telegram.pushUpdate({ chatId: site.chatId, replyTo: card.message_id, text: 'from Telegram' })
    await widget.waitForSeq(3)
    await release()
    t.equal((await app.inject(replyRequest(admin, s.id, 'after'))).statusCode, 201)
    await widget.waitForSeq(4)
    t.same(widget.ofType('message').map((f) => [f.message?.seq, f.message?.sender, f.message?.text]),
      [[1, 'visitor', 'anyone?'], [2, 'bot', bot.followUpText], [3, 'agent', 'from Telegram'], [4, 'agent', 'after']], 'each once, in order')
  })

  t.test('a close whose event an instance never got reaches its widget and dashboard sockets within the sweep bound, once', async (t) => {
    const a = await app(t)
    // B's bus brings it nothing while held: only its sweep (at the default interval) can tell its sockets
    const { app: b, hold, release } = await (await bus()).heldApp(t, { env: {}, clock: () => new Date() })
    const sweepMs = b.config.wsSweepMs
    const staff = await makeStaff(a)
    const s = await makeSession(a, await makeSite(a), { firstMessage: 'hello' })
    const baseB = await listen(b)
    const dashboardOnB = await openDashboard(t, baseB, staff)
    const widgetOnB = await openSocket(t, widgetUrl(baseB, s))
    const statuses = () => widgetOnB.ofType('session').map((f) => f.session?.status)
    const updates = () => dashboardOnB.ofType('session.updated').filter((f) => f.session?.id === s.id).map((f) => f.session?.status)
    await widgetOnB.waitUntil('the backlog and the status', () => widgetOnB.seqs().length === 1 && statuses().length === 1)
    // the session's last message is older than the sweep's window: only the close is recent
    await a.sql`update chat_messages set created_at = created_at - interval '1 hour' where session_id = ${s.id}`
    await a.sql`update chat_sessions set created_at = created_at - interval '1 hour', last_message_at = last_message_at - interval '1 hour' where id = ${s.id}`
    await hold()
    const closedAt = Date.now()
    t.equal((await a.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/close`, headers: bearer(staff) })).statusCode, 200)
    await widgetOnB.waitUntil('the closed status', () => statuses().includes('closed'))
    await dashboardOnB.waitUntil('the closed session', () => updates().includes('closed'))
    const elapsed = Date.now() - closedAt
    t.ok(elapsed < 2 * sweepMs, `caught up in ${elapsed} ms (sweep every ${sweepMs} ms)`)
    // later sweeps still see the close in their window, and send nothing again
    await sleep(2 * sweepMs)
    t.same(statuses(), ['open', 'closed'], 'the widget socket: its status once, then the close once')
    t.same(updates(), ['closed'], 'the dashboard: the close once, as for its event')
    await release()
  })

  t.test('an erasure whose event an instance never got closes its widget socket with 4004 within the sweep bound, and reaches its dashboard once', async (t) => {
    const a = await app(t)
    // B's bus brings it nothing while held: only its sweep (at the default interval) can tell its sockets
    const { app: b, hold, release } = await (await bus()).heldApp(t, { env: {}, clock: () => new Date() })
    const sweepMs = b.config.wsSweepMs
    const admin = await makeStaff(a, 'admin')
    const s = await makeSession(a, await makeSite(a), { firstMessage: 'hello' })
    const baseB = await listen(b)
    const dashboardOnB = await openDashboard(t, baseB, admin)
    const widgetOnB = await openSocket(t, widgetUrl(baseB, s))
    await widgetOnB.waitUntil('the backlog and the status', () => widgetOnB.seqs().length === 1 && widgetOnB.ofType('session').length === 1)
    await hold()
    const erasedAt = Date.now()
    t.equal((await a.inject({ method: 'DELETE', url: `/api/chat/sessions/${s.id}`, headers: bearer(admin) })).statusCode, 204)
    const closed = await Promise.race([widgetOnB.closed, sleep(4 * sweepMs).then(() => undefined)])
    const elapsed = Date.now() - erasedAt
    t.equal(closed?.code, 4004, 'closed as by the erased event')
    t.ok(elapsed < 2 * sweepMs, `closed in ${elapsed} ms (sweep every ${sweepMs} ms)`)
    const erasures = () => dashboardOnB.ofType('session.erased').filter((f) => f.session?.id === s.id)
    await dashboardOnB.waitUntil('the erasure', () => erasures().length > 0)
    // later sweeps still see the erasure in their window, and send nothing again
    await sleep(2 * sweepMs)
    t.equal(erasures().length, 1, 'the dashboard: session.erased once, as for its event')
    await release()
  })

  t.test('an unsubscribed subscriber gets nothing more', async (t) => {
    const a = await app(t)
    const gone = recorder()
    const stays = recorder()
    const unsubscribe = await a.bus.subscribe(gone.subscriber)
    await a.bus.subscribe(stays.subscriber)
    unsubscribe()
    a.bus.publish(typing)
    await waitFor('the event', () => stays.events.length === 1)
    t.same(gone.events, [])
  })

  t.test('an event larger than MAX_EVENT_BYTES is refused when published', async (t) => {
    const a = await app(t)
    t.throws(() => a.bus.publish({ k: 'typing', site: SITE, session: SESSION, from: 'agent', user: 'x'.repeat(2000) }), RangeError)
  })

  t.test('two instances deliver each other\'s writes to widget and dashboard sockets', async (t) => {
    const a = await app(t)
    const b = await app(t)
    const [baseA, baseB] = await Promise.all([listen(a), listen(b)])
    const staff = await makeStaff(a)
    const dashboardOnB = await openSocket(t, dashboardUrl(baseB, staff))
    const s = await makeSession(a, await makeSite(a), { firstMessage: 'from A' })
    const widgetOnA = await openSocket(t, widgetUrl(baseA, s))
    await widgetOnA.waitForSeq(1)
    await b.inject(replyRequest(staff, s.id, 'from B'))
    await widgetOnA.waitForSeq(2)
    t.same(widgetOnA.ofType('message').map((f) => f.message?.text), ['from A', 'from B'])
    await dashboardOnB.waitUntil('the session and both messages', () =>
      dashboardOnB.ofType('session.created').length === 1 && dashboardOnB.ofType('message.created').length === 2)
    t.equal(dashboardOnB.ofType('session.created')[0]?.session?.id, s.id)
  })

  t.test('a key rotated on one instance stops working on another at once (the site cache follows the event)', async (t) => {
    const a = await app(t)
    const b = await app(t)
    const site = await makeSite(a)
    const s = await makeSession(a, site)
    const admin = await makeStaff(a, 'admin')
    // b's copy is fresh for a second (plugins/auth.ts), after which b looks the key up again by
    // itself (without the event it refused 0.8 s after the rotation): only the event explains a refusal before that
    const cachedAt = Date.now()
    t.equal((await b.inject(pollRequest(s))).statusCode, 200, 'b has the site cached')
    t.equal((await a.inject({ method: 'POST', url: `/api/admin/sites/${site.id}/rotate`, headers: bearer(admin) })).statusCode, 200)
    t.equal((await a.inject(pollRequest(s))).statusCode, 401, 'the rotating instance forgets at once')
    await waitFor('b to refuse the old key', async () => (await b.inject(pollRequest(s))).statusCode === 401, 2_000)
    const age = Date.now() - cachedAt
    t.ok(age < 1000, `the other instance refuses the old key while its copy of the site is ${age} ms old, under a second`)
  })

  t.test('messages written on A while both instances\' bus connections are cut reach B\'s sockets, once and in order', async (t) => {
    const a = await app(t)
    const b = await app(t)
    const baseB = await listen(b)
    const onA = recorder()
    await a.bus.subscribe(onA.subscriber)
    const onB = recorder()
    await b.bus.subscribe(onB.subscriber)
    const staff = await makeStaff(a)
    const site = await makeSite(a)
    const sessions = [await makeSession(a, site), await makeSession(a, site)]
    const sockets = await Promise.all(sessions.map((s) => openSocket(t, widgetUrl(baseB, s))))
    const dashboard = await openSocket(t, dashboardUrl(baseB, staff))
    const perSession = 12
    let restored: Promise<void> | undefined
    const statuses: number[] = []
    for (let i = 1; i <= perSession; i++) {
      if (i === 5) ({ restored } = await (await bus()).cut([a, b]))
      for (const s of sessions) statuses.push((await a.inject(i % 2 ? sendRequest(s, { text: `v${i}` }) : replyRequest(staff, s.id, `a${i}`))).statusCode)
    }
    await restored
    t.same(statuses, statuses.map(() => 201), 'every write stored, whatever the bus does')
    // typing is ephemeral: published while A's own bus connection is still down it may be lost
    await waitFor('both buses to come back', () => onA.reconnects() >= 1 && onB.reconnects() >= 1)
    const expected = Array.from({ length: perSession }, (_, i) => i + 1)
    for (const socket of sockets) {
      await socket.waitForSeq(perSession)
      t.same(socket.seqs(), expected)
    }
    await dashboard.waitUntil('a resync frame', () => dashboard.ofType('resync').length >= 1)
    // and the bus works again
    const after = recorder()
    await b.bus.subscribe(after.subscriber)
    a.bus.publish(typing)
    // the dashboard on B keeps announcing its user's presence on the same bus, so only typing counts here
    const typings = () => after.events.filter((e) => e.k === 'typing')
    await waitFor('an event after the reconnect', () => typings().length >= 1)
    t.same(typings(), [typing])
  })
}
