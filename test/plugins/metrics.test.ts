import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { makeSession, makeSite, sendRequest } from '../helpers/fixtures.js'

const TOKEN = 'metrics-token-for-tests'

t.test('/metrics is not there without METRICS_TOKEN', async (t) => {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
  t.equal(res.statusCode, 404)
  t.equal(res.json().error.code, 'NOT_FOUND')
  // what nobody can read is not measured: no per-request histogram, no GC or event-loop observers
  t.equal(app.metrics.getSingleMetric('http_request_duration_seconds'), undefined)
  t.equal(app.metrics.getSingleMetric('nodejs_eventloop_lag_p99_seconds'), undefined)
})

t.test('/metrics needs the token and reports requests, messages and the outbox', async (t) => {
  const app = await buildTestApp(t, { env: { METRICS_TOKEN: TOKEN } })
  t.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404, 'no token')
  t.equal((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong' } })).statusCode, 404, 'wrong token')
  const s = await makeSession(app, await makeSite(app))
  t.equal((await app.inject(sendRequest(s, { text: 'counted' }))).statusCode, 201)
  const res = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /text\/plain/)
  t.match(res.body, /http_request_duration_seconds_count\{method="POST",route="\/api\/public\/chat\/sessions\/:id\/messages",status="201"\} 1/)
  t.match(res.body, /outbox_rows\{status="pending"\} \d+/)
  t.match(res.body, /chat_open_sockets\{kind="widget"\} 0/)
  t.match(res.body, /chat_notification_lag_seconds_count \d+/)
  t.match(res.body, /nodejs_eventloop_lag_p99_seconds \d/)
  const stored = /chat_messages_stored_total (\d+)/.exec(res.body)
  t.ok(stored, 'messages stored is reported')
})
