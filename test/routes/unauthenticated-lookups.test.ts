import t from 'tap'
import { buildTestApp, fileDatabaseUrl } from '../helpers/app.js'
import { databaseRelay } from '../helpers/database-relay.js'
import { makeSite } from '../helpers/fixtures.js'

const ROUNDS = 20
const PER_KIND = 20

t.test('preflights, health checks and Telegram webhook calls cost no query each: their lookups are cached and shared', async (t) => {
  const relay = await databaseRelay(await fileDatabaseUrl(), { countQueries: true })
  t.teardown(relay.close)
  const app = await buildTestApp(t, { databaseUrl: relay.url })
  await makeSite(app, ['https://shop.example'])
  const preflight = (origin: string) => app.inject({
    method: 'OPTIONS', url: '/api/public/chat/sessions',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-api-key' },
  })
  const burst = (i: number) => Array.from({ length: PER_KIND }, (_, j) => [
    preflight(j % 2 ? 'https://shop.example' : `https://nobody-${i}-${j}.example`),
    app.inject({ method: 'GET', url: '/healthz' }),
    // an unknown bot each time: the caller holds nothing, so it must not cost a query either
    app.inject({ method: 'POST', url: `/api/telegram/webhook/${1000 + i * PER_KIND + j}`, headers: { 'x-telegram-bot-api-secret-token': 'guess' }, payload: { update_id: 1 } }),
  ]).flat()

  const statuses = new Set<number>()
  for (const res of await Promise.all(burst(-1))) statuses.add(res.statusCode) // the caches are filled once
  const before = relay.queries()
  const started = Date.now()
  for (let i = 0; i < ROUNDS; i++) for (const res of await Promise.all(burst(i))) statuses.add(res.statusCode)
  const queries = relay.queries() - before
  const seconds = (Date.now() - started) / 1000
  const requests = ROUNDS * PER_KIND * 3
  t.ok([...statuses].every((s) => s < 500), `no 5xx (${[...statuses].join(', ')})`)
  // each lookup is refreshed at most twice a second, and the background jobs (outbox, sweep) query a
  // few times a second; one query per request would be `requests` or more
  t.ok(queries < 40 + 12 * seconds, `${queries} queries for ${requests} requests in ${seconds.toFixed(1)} s`)
  t.ok(queries < requests / 4, 'far fewer queries than requests')
})
