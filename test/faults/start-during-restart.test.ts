import t from 'tap'
import postgres from 'postgres'
import { startCluster, stopCluster } from '../../src/db/cluster.js'
import { connectDb } from '../../src/db/client.js'
import { runMigrations } from '../../src/db/migrate.js'
import { uniq } from '../helpers/fixtures.js'
import { fetchJson } from '../helpers/http.js'
import { assertAllAlive, ownCluster, stopAll } from '../helpers/instances.js'
import { startServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

/**
 * An instance (re)started while its database restarts: it reached the database, so its
 * settings are right, and the database then went away half-way through the start (a restart,
 * a failover). It must wait for it, as a running instance does, not exit: a supervisor-less
 * `npm start` (or a black-box "kill -9 one instance, start it again" during a database restart)
 * would otherwise stay down for good.
 */

t.test('an instance whose database restarts half-way through its start waits for it and starts', async (t) => {
  const pg = await ownCluster(t, 'livechat-start-restart-')
  const handle = connectDb(pg.url, { poolSize: 2 })
  await runMigrations(handle.db)
  await handle.close()

  // the start's bootstrap (the configured admin) waits on this lock until the database goes away
  const holder = postgres(pg.url, { max: 1, onnotice: () => {} })
  const lockHeld = holder.begin(async (tx) => {
    await tx`lock table users in access exclusive mode`
    await new Promise(() => {}) // until the fast shutdown ends this session
  }).catch(() => undefined)
  t.teardown(() => holder.end({ timeout: 1 }).catch(() => undefined))
  const watcher = postgres(pg.url, { max: 1, onnotice: () => {} })

  const siteKey = uniq('pk_')
  const starting = startServer(t, {
    DATABASE_URL: pg.url, JWT_SECRET: 'start-restart-secret-start-restart',
    ADMIN_EMAIL: 'ops@example.com', ADMIN_PASSWORD: 'ops-password', SITE_API_KEY: siteKey,
  })
  const startFailed = starting.then(() => undefined, (err: Error) => err)
  await waitFor('the start to wait on the users lock', async () => {
    const [row] = await watcher<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity where application_name = 'livechat' and wait_event_type = 'Lock'`
    return (row?.n ?? 0) > 0
  }, 30_000)
  await watcher.end()

  await stopCluster(pg.clusterDir)
  await lockHeld
  await new Promise((r) => setTimeout(r, 1000))
  await startCluster(pg.clusterDir, pg.port)

  const failed = await startFailed
  t.notOk(failed, `the start went on once the database was back (${failed?.message.slice(0, 600) ?? 'started'})`)
  if (failed) return
  const server = await starting
  t.equal((await fetchJson(server.api, 'GET', '/healthz')).status, 200, '/healthz is 200')
  const session = await fetchJson(server.api, 'POST', '/api/public/chat/sessions', {
    headers: { 'x-api-key': siteKey }, body: { firstMessage: 'after a restart during the start' },
  })
  t.equal(session.status, 201, 'the bootstrap site takes a chat')
  t.match(server.output(), /database went away during the start; waiting for it/, 'the wait is logged')
  await assertAllAlive(t, [server])
  await stopAll(t, [server])
})
