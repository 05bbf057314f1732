import t from 'tap'
import postgres from 'postgres'
import { buildTestApp, fileDatabaseUrl } from '../helpers/app.js'
import { waitFor } from '../helpers/wait.js'
import type { BusEvent } from '../../src/realtime/bus.js'
import { LISTENER_APP_NAME } from '../../src/realtime/postgres-bus.js'

const SITE = '00000000-0000-4000-8000-000000000001'
const SESSION = '00000000-0000-4000-8000-000000000002'

const typing: BusEvent = { k: 'typing', site: SITE, session: SESSION, from: 'visitor' }
const message: BusEvent = { k: 'message', site: SITE, session: SESSION, seq: 7 }

function recorder() {
  const events: BusEvent[] = []
  let reconnects = 0
  return {
    events,
    reconnects: () => reconnects,
    subscriber: { onEvent: (e: BusEvent) => void events.push(e), onReconnect: () => void reconnects++ },
  }
}

t.test('ephemeral and durable events published on one instance reach another on the same database, and itself', async (t) => {
  const a = await buildTestApp(t)
  const b = await buildTestApp(t)
  const onA = recorder()
  const onB = recorder()
  await a.bus.subscribe(onA.subscriber)
  await b.bus.subscribe(onB.subscriber)
  a.bus.publish(typing)
  a.bus.publish(message)
  await waitFor('both events on B', () => onB.events.length >= 2)
  t.same(onB.events, [typing, message], 'in publishing order, as published')
  await waitFor('both events on A', () => onA.events.length >= 2)
  t.same(onA.events, [typing, message])
})

t.test('an unsubscribed subscriber gets nothing more', async (t) => {
  const a = await buildTestApp(t)
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
  const a = await buildTestApp(t)
  t.throws(() => a.bus.publish({ k: 'typing', site: SITE, session: SESSION, from: 'agent', user: 'x'.repeat(2000) }), RangeError)
})

t.test('events published while the listener is down make every subscriber re-read (onReconnect)', async (t) => {
  const a = await buildTestApp(t)
  const b = await buildTestApp(t)
  const onB = recorder()
  await b.bus.subscribe(onB.subscriber)
  const admin = postgres(await fileDatabaseUrl(), { max: 1, onnotice: () => {} })
  t.teardown(() => admin.end())
  const killed = await admin`select pg_terminate_backend(pid) from pg_stat_activity
    where application_name = ${LISTENER_APP_NAME} and datname = current_database()`
  t.equal(killed.length, 2, 'both instances\' listeners were cut off')
  a.bus.publish(message)
  await waitFor('B to reconnect', () => onB.reconnects() >= 1)
  a.bus.publish(typing)
  await waitFor('B to receive again', () => onB.events.some((e) => e.k === 'typing'))
  t.pass('B receives again after its reconnect')
})
