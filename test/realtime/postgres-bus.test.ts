import t from 'tap'
import postgres from 'postgres'
import { buildTestApp, fileDatabaseUrl } from '../helpers/app.js'
import { multiInstanceTests, recorder } from '../helpers/multi-instance.js'
import { waitFor } from '../helpers/wait.js'
import { databaseRelay } from '../helpers/database-relay.js'
import { setTimeout as sleep } from 'node:timers/promises'
import { ALONE_CHECK_MS, EVENTS_CHANNEL, LISTENER_APP_NAME, OTHERS_CHECK_MS, PostgresBus } from '../../src/realtime/postgres-bus.js'

const postgresOptions = (url: URL) => ({ host: url.hostname, port: Number(url.port), username: decodeURIComponent(url.username), password: decodeURIComponent(url.password), max: 1, onnotice: () => {} })

/** Terminates the LISTEN connection of every instance on this file's database; postgres.js reconnects it. */
async function killListeners(): Promise<number> {
  const admin = postgres(await fileDatabaseUrl(), { max: 1, onnotice: () => {} })
  try {
    const killed = await admin`select pg_terminate_backend(pid) from pg_stat_activity
      where application_name = ${LISTENER_APP_NAME} and datname = current_database()`
    return killed.length
  } finally {
    await admin.end()
  }
}

multiInstanceTests(t, async () => ({
  env: { REALTIME_BUS: 'postgres' },
  cut: async () => {
    await killListeners()
    return { restored: Promise.resolve() }
  },
  heldApp: async (t, { env, clock }) => {
    // through a relay that can hold what the LISTEN connection receives: notifications wait in Postgres
    const relay = await databaseRelay(await fileDatabaseUrl())
    t.teardown(relay.close)
    const app = await buildTestApp(t, { databaseUrl: relay.url, clock, env: { REALTIME_BUS: 'postgres', ...env } })
    return {
      app,
      hold: async () => {
        if (relay.hold(LISTENER_APP_NAME) === 0) throw new Error('no LISTEN connection to hold')
      },
      release: async () => relay.release(),
    }
  },
}))

t.test('a killed LISTEN connection comes back and tells every subscriber to re-read', async (t) => {
  const a = await buildTestApp(t)
  const b = await buildTestApp(t)
  const onB = recorder()
  await b.bus.subscribe(onB.subscriber)
  t.equal(await killListeners(), 2, 'both instances\' listeners were cut off')
  await waitFor('B to reconnect', () => onB.reconnects() >= 1)
  a.bus.publish({ k: 'site', site: '00000000-0000-4000-8000-000000000001' })
  await waitFor('B to receive again', () => onB.events.some((e) => e.k === 'site'))
  t.pass('B receives again after its reconnect')
})

t.test('events dropped while the database is away are followed by a re-read on every instance', async (t) => {
  const url = new URL(await fileDatabaseUrl())
  const database = url.pathname.slice(1)
  const admin = postgres({ ...postgresOptions(url), database: 'postgres' })
  const publishing = postgres(url.toString(), { max: 1, onnotice: () => {}, connection: { application_name: 'bus-drop-test' } })
  const log = { warn: () => {}, error: (_obj: object, msg: string) => void errors.push(msg) }
  const errors: string[] = []
  const publisher = new PostgresBus({ sql: publishing, databaseUrl: url.toString(), log })
  const listening = postgres(url.toString(), { max: 1, onnotice: () => {} })
  const receiver = new PostgresBus({ sql: listening, databaseUrl: url.toString(), log })
  const onReceiver = recorder()
  await receiver.subscribe(onReceiver.subscriber)
  t.teardown(async () => {
    await admin.unsafe(`alter database "${database}" allow_connections true`)
    await Promise.all([publisher.close(), receiver.close()])
    await Promise.all([admin.end(), publishing.end(), listening.end()])
  })
  await publishing`select 1`
  // the receiver's LISTEN connection stays; only new connections (the publisher's) are refused
  await admin.unsafe(`alter database "${database}" allow_connections false`)
  await admin`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'bus-drop-test'`
  const site = '00000000-0000-4000-8000-000000000001'
  for (let i = 0; i < 10_001; i++) publisher.publish({ k: 'site', site })
  t.match(errors, [/dropped/], 'the drop is logged')
  await admin.unsafe(`alter database "${database}" allow_connections true`)
  await waitFor('the receiver to be told to re-read', () => onReceiver.reconnects() >= 1)
  await waitFor('the events that were kept', () => onReceiver.events.length === 10_000)
  t.pass('the kept events arrived after the re-read')
})

t.test('events dropped while a notification is on its way are announced, and the one on its way is not dropped', async (t) => {
  const url = (await fileDatabaseUrl()).toString()
  const errors: string[] = []
  const log = { warn: () => {}, error: (_obj: object, msg: string) => void errors.push(msg) }
  const publishing = postgres(url, { max: 1, onnotice: () => {} })
  const listening = postgres(url, { max: 1, onnotice: () => {} })
  const publisher = new PostgresBus({ sql: publishing, databaseUrl: url, log })
  const receiver = new PostgresBus({ sql: listening, databaseUrl: url, log })
  const onReceiver = recorder()
  await receiver.subscribe(onReceiver.subscriber)
  t.teardown(async () => {
    await Promise.all([publisher.close(), receiver.close()])
    await Promise.all([publishing.end(), listening.end()])
  })
  const site = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`
  // the first starts a notification; the rest arrive while it is on its way, 2 too many
  for (let i = 0; i <= 10_001; i++) publisher.publish({ k: 'site', site: site(i) })
  t.match(errors, [/dropped/], 'the drop is logged')
  await waitFor('the receiver to be told to re-read', () => onReceiver.reconnects() >= 1)
  await waitFor('the events that were kept', () => onReceiver.events.length === 10_000)
  t.ok(onReceiver.events.some((e) => e.k === 'site' && e.site === site(0)), 'the event that was on its way arrived')
})

t.test('an instance alone sends no NOTIFY, and notifies again from its first event after another instance starts listening', async (t) => {
  // hears every NOTIFY on the channel; not an instance (another application_name), so no one counts it as a listener
  const observer = postgres(await fileDatabaseUrl(), { max: 1, onnotice: () => {} })
  t.teardown(() => observer.end())
  const notified: string[] = []
  await observer.listen(EVENTS_CHANNEL, (payload) => void notified.push(payload))
  const site = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`
  const a = await buildTestApp(t)
  let i = 0
  await waitFor('A to publish an event without a NOTIFY', async () => {
    const id = site(++i)
    a.bus.publish({ k: 'site', site: id })
    await sleep(200)
    return !notified.some((p) => p.includes(id))
  })
  const b = await buildTestApp(t)
  const onB = recorder()
  await b.bus.subscribe(onB.subscriber)
  // a check this publish starts answers after it: only B's greeting can have told A in time
  a.bus.publish({ k: 'site', site: site(0) })
  await waitFor('A\'s first event after B started, on B', () => onB.events.some((e) => e.k === 'site' && e.site === site(0)))
  t.pass('A notified it')
})

t.test('a bus that knows others listen asks Postgres again only every OTHERS_CHECK_MS, still notices them leave, and alone asks every second', async (t) => {
  const url = await fileDatabaseUrl()
  const pool = postgres(url, { max: 1, onnotice: () => {} })
  let checks = 0
  // the pool as the bus uses it (tagged statements), counting those that ask who listens
  const counting = ((strings: TemplateStringsArray, ...values: never[]) => {
    if (strings.join('').includes('pg_stat_activity')) checks++
    return pool(strings, ...values)
  }) as unknown as typeof pool
  // another instance's LISTEN connection, as pg_stat_activity shows one
  const other = postgres(url, { max: 1, onnotice: () => {}, connection: { application_name: LISTENER_APP_NAME } })
  const heardByOther: string[] = []
  await other.listen(EVENTS_CHANNEL, (payload) => void heardByOther.push(payload))
  // hears every NOTIFY; not an instance (another application_name)
  const observer = postgres(url, { max: 1, onnotice: () => {} })
  const notified: string[] = []
  await observer.listen(EVENTS_CHANNEL, (payload) => void notified.push(payload))
  const bus = new PostgresBus({ sql: counting, databaseUrl: url, log: { warn: () => {}, error: () => {} } })
  await bus.subscribe(recorder().subscriber)
  const realNow = performance.now.bind(performance)
  let skewMs = 0
  performance.now = () => realNow() + skewMs
  t.teardown(async () => {
    performance.now = realNow
    await bus.close()
    await Promise.all([pool.end(), other.end(), observer.end()])
  })
  const site = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`
  let i = 0
  const publishFor = async (ms: number) => {
    for (const until = Date.now() + ms; Date.now() < until;) {
      bus.publish({ k: 'site', site: site(++i) })
      await sleep(50)
    }
  }

  await publishFor(ALONE_CHECK_MS * 2.5)
  t.equal(checks, 1, 'one check, at the first event, while others listen')
  await waitFor('every event to reach the other instance', () => heardByOther.some((p) => p.includes(site(i))))

  await other.end()
  await waitFor('the other instance\'s backend to be gone', async () => (await pool`select count(*)::int as n from pg_stat_activity
    where datname = current_database() and application_name = ${LISTENER_APP_NAME}`)[0]?.n === 1)
  skewMs = OTHERS_CHECK_MS
  await waitFor('the bus to find itself alone', async () => {
    bus.publish({ k: 'site', site: site(++i) })
    await sleep(200)
    return !notified.some((p) => p.includes(site(i)))
  })
  t.equal(checks, 2, 'the others\' departure noticed by the next check')

  const before = checks
  await publishFor(ALONE_CHECK_MS * 2.5)
  t.ok(checks - before >= 2, `alone, it asks again every second (${checks - before} checks in 2.5 s)`)
})
