// requires: nats-server
import t from 'tap'
import postgres from 'postgres'
import { buildTestApp, fileDatabaseUrl } from '../helpers/app.js'
import { makeSession, makeSite, makeStaff, replyRequest, sendRequest } from '../helpers/fixtures.js'
import { listen, openSocket, widgetUrl } from '../helpers/sockets.js'
import { multiInstanceTests, recorder } from '../helpers/multi-instance.js'
import { startNats, type NatsServer } from '../helpers/nats.js'
import { waitFor } from '../helpers/wait.js'
import { EVENTS_CHANNEL } from '../../src/realtime/postgres-bus.js'
import { appendMessage } from '../../src/chat/messages.js'
import { ConfigError } from '../../src/config.js'

let nats: Promise<NatsServer> | undefined
// one nats-server for the file, started on first use
const server = () => (nats ??= startNats(t))
const natsEnv = async () => ({ REALTIME_BUS: 'nats', NATS_URL: (await server()).url })

multiInstanceTests(t, async () => ({
  env: await natsEnv(),
  cut: async () => {
    const s = await server()
    await s.kill()
    return { restored: new Promise<void>((resolve, reject) => setTimeout(() => s.start().then(resolve, reject), 300)) }
  },
  heldApp: async (t, { env, clock }) => {
    const app = await buildTestApp(t, { clock, env: { ...(await natsEnv()), ...env } })
    const s = await server()
    // no server: nothing published comes back until it is up again
    return { app, hold: () => s.kill(), release: () => s.start() }
  },
}))

t.test('with NATS no event goes through Postgres NOTIFY', async (t) => {
  const a = await buildTestApp(t, { env: await natsEnv() })
  const listener = postgres(await fileDatabaseUrl(), { max: 1, onnotice: () => {} })
  t.teardown(() => listener.end())
  const notified: string[] = []
  await listener.listen(EVENTS_CHANNEL, (payload) => void notified.push(payload))
  const onA = recorder()
  await a.bus.subscribe(onA.subscriber)
  const staff = await makeStaff(a)
  const s = await makeSession(a, await makeSite(a), { firstMessage: 'hello' })
  await a.inject(sendRequest(s, { text: 'again' }))
  await a.inject(replyRequest(staff, s.id, 'answer'))
  a.bus.publish({ k: 'typing', site: s.site.id, session: s.id, from: 'visitor' })
  await waitFor('the events on the bus', () => onA.events.some((e) => e.k === 'typing'))
  t.ok(onA.events.filter((e) => e.k === 'message').length >= 3, 'message events went through NATS')
  // a NOTIFY sent meanwhile would have reached the listener before this one
  await listener`select pg_notify(${EVENTS_CHANNEL}, 'marker')`
  await waitFor('the marker', () => notified.includes('marker'))
  t.same(notified, ['marker'], 'nothing else was notified')
})

t.test('REALTIME_BUS=nats with a NATS that cannot be reached stops the start with a clear error', async (t) => {
  const s = await server()
  const unreachable = s.url.replace(/:\d+$/, ':1')
  const err: unknown = await buildTestApp(t, { env: { REALTIME_BUS: 'nats', NATS_URL: unreachable } }).then(() => undefined, (e: unknown) => e)
  t.match(err, { message: /^cannot reach NATS at nats:\/\/127\.0\.0\.1:1 \(NATS_URL\)/ })
  // server.ts prints a ConfigError's sentence alone, without the stack
  t.type(err, ConfigError, 'a setting to fix, not a crash')
})

t.test('a NATS_URL with a password that cannot be reached is named without the password', async (t) => {
  const err: unknown = await buildTestApp(t, { env: { REALTIME_BUS: 'nats', NATS_URL: 'nats://bus:hunter2pw@127.0.0.1:1' } }).then(() => undefined, (e: unknown) => e)
  t.match(err, { message: /^cannot reach NATS at nats:\/\/\[credentials\]@127\.0\.0\.1:1 \(NATS_URL\)/ })
  t.notMatch((err as Error).message, 'hunter2pw')
})

t.test('a new message travels with its event: the other instance sends it to its sockets without reading it back', async (t) => {
  const a = await buildTestApp(t, { env: await natsEnv() })
  const b = await buildTestApp(t, { env: await natsEnv() })
  const s = await makeSession(a, await makeSite(a), { firstMessage: 'stored' })
  const widgetOnB = await openSocket(t, widgetUrl(await listen(b), s))
  await widgetOnB.waitUntil('the backlog and the status', () => widgetOnB.ofType('session').length === 1 && widgetOnB.seqs().length === 1)
  // a message that is in no table: only the event can bring it (a re-read would find nothing after seq 1)
  const message = { id: '00000000-0000-4000-8000-0000000000aa', sessionId: s.id, seq: 2, sender: 'agent' as const, senderName: 'Olena', text: 'from the event', clientMessageId: null, attachments: [], createdAt: new Date() }
  a.bus.publish({ k: 'message', site: s.site.id, session: s.id, seq: 2, message })
  await widgetOnB.waitForSeq(2)
  t.same(widgetOnB.ofType('message').map((f) => f.message?.text), ['stored', 'from the event'])
})

t.test('a socket a carried message finds behind is caught up from Postgres, once and in order', async (t) => {
  const a = await buildTestApp(t, { env: await natsEnv() })
  const b = await buildTestApp(t, { env: await natsEnv() })
  const staff = await makeStaff(a)
  const s = await makeSession(a, await makeSite(a), { firstMessage: 'one' })
  const widgetOnB = await openSocket(t, widgetUrl(await listen(b), s))
  await widgetOnB.waitUntil('the backlog and the status', () => widgetOnB.ofType('session').length === 1 && widgetOnB.seqs().length === 1)
  // seq 2's event is lost (published nowhere); seq 3's carries seq 3 only
  await appendMessage(a.db, { publish: () => {} }, { sessionId: s.id, sender: 'visitor', text: 'two' })
  t.equal((await a.inject(replyRequest(staff, s.id, 'three'))).statusCode, 201)
  await widgetOnB.waitForSeq(3)
  t.same(widgetOnB.ofType('message').map((f) => [f.message?.seq, f.message?.text]), [[1, 'one'], [2, 'two'], [3, 'three']])
})
