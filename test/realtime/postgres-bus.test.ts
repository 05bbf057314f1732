import t from 'tap'
import postgres from 'postgres'
import { buildTestApp, fileDatabaseUrl } from '../helpers/app.js'
import { multiInstanceTests, recorder } from '../helpers/multi-instance.js'
import { waitFor } from '../helpers/wait.js'
import { LISTENER_APP_NAME } from '../../src/realtime/postgres-bus.js'

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
