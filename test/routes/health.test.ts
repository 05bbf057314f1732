import t from 'tap'
import { HEALTH_TIMEOUT_MS } from '../../src/routes/health.js'
import { buildTestApp, fileDatabaseUrl } from '../helpers/app.js'
import { databaseRelay } from '../helpers/database-relay.js'
import { makeSite, startSessionRequest } from '../helpers/fixtures.js'
import { waitFor } from '../helpers/wait.js'

t.test('healthz is 200 with db ok when the database answers', async (t) => {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/healthz' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { success: true, data: { status: 'ok', db: 'ok' } })
})

t.test('healthz is 200 when this process stalls past the probe timeout and the database then answers (a GC pause, a starved CPU)', async (t) => {
  const app = await buildTestApp(t)
  const execute = app.db.execute.bind(app.db)
  app.db.execute = ((query: Parameters<typeof execute>[0]) => {
    // the probe's deadline is armed; the process busy-waits past it, then the database takes
    // 20 ms to answer: nothing the database did took longer than the timeout
    const until = Date.now() + HEALTH_TIMEOUT_MS + 200
    while (Date.now() < until);
    return new Promise((resolve) => setTimeout(resolve, 20)).then(() => execute(query))
  }) as unknown as typeof app.db.execute
  const res = await app.inject({ method: 'GET', url: '/healthz' })
  app.db.execute = execute
  t.equal(res.statusCode, 200, res.body)
})

t.test('healthz is 503 with db down within two seconds when the database stops answering', async (t) => {
  const relay = await databaseRelay(await fileDatabaseUrl())
  t.teardown(relay.close)
  const app = await buildTestApp(t, { databaseUrl: relay.url })
  const site = await makeSite(app)
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)

  relay.blackhole()
  const started = Date.now()
  // the probe is shared for half a second, so the first answers may still be the last probe's
  const res = await waitFor('a 503', async () => {
    const r = await app.inject({ method: 'GET', url: '/healthz' })
    return r.statusCode === 503 && r
  }, 5000)
  t.equal(res.statusCode, 503)
  t.match(res.json(), { success: false, data: { status: 'degraded', db: 'down' }, error: { code: 'UNAVAILABLE' } })
  t.ok(Date.now() - started < 2500, `answered in ${Date.now() - started} ms`)

  await relay.close()
  const refused = await app.inject({ method: 'GET', url: '/healthz' })
  t.equal(refused.statusCode, 503, 'connection refused')
  const api = await app.inject(startSessionRequest(site))
  t.equal(api.statusCode, 503, 'API requests are 503 UNAVAILABLE, not 500')
  t.same(api.json(), { success: false, error: { code: 'UNAVAILABLE', message: api.json().error.message } })
  t.notMatch(api.body, /ECONN|select|postgres/i, 'no internals in the body')
})
