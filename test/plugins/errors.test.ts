import { once } from 'node:events'
import { connect } from 'node:net'
import t from 'tap'
import { sql } from 'drizzle-orm'
import { buildApp } from '../../src/app.js'
import { buildTestApp, fileDatabaseUrl, testConfig } from '../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff, pollRequest } from '../helpers/fixtures.js'
import { serve } from '../helpers/http.js'

t.test('an unknown route is a 404 in the envelope', async (t) => {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/api/nothing/here?token=secret' })
  t.equal(res.statusCode, 404)
  t.match(res.json(), { success: false, error: { code: 'NOT_FOUND' } })
  t.notMatch(res.body, 'secret', 'the query string is not echoed')
  const wrongMethod = await app.inject({ method: 'DELETE', url: '/api/public/chat/sessions' })
  t.equal(wrongMethod.statusCode, 404)
  t.equal(wrongMethod.json().success, false)
})

t.test('logs carry request ids and never secrets, tokens or passwords', async (t) => {
  const lines: string[] = []
  const app = await buildApp({ config: testConfig({ LOG_LEVEL: 'info' }), databaseUrl: await fileDatabaseUrl(), logStream: { write: (line) => { lines.push(line) } } })
  t.teardown(() => app.close())
  const site = await makeSite(app)
  const staff = await makeStaff(app)
  const s = await makeSession(app, site)
  await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: staff.email, password: staff.password } })
  await app.inject({ ...pollRequest(s), headers: { 'x-api-key': site.apiKey, 'x-api-secret': site.apiSecret, 'x-request-id': 'req-abc-123' } })
  await app.inject(pollRequest(s))
  await app.inject({ method: 'GET', url: `/api/public/chat/sessions/${s.id}/ws?apiKey=${site.apiKey}&token=${s.token}` })
  await app.inject({ method: 'GET', url: '/api/chat/sessions', headers: bearer(staff) })
  const log = lines.join('')
  t.ok(lines.length > 5, 'requests are logged')
  t.match(log, '"reqId":"req-abc-123"', 'the request id comes from X-Request-Id')
  for (const [name, secret] of Object.entries({ password: staff.password, jwt: staff.token, apiSecret: site.apiSecret, sessionToken: s.token })) {
    t.notOk(log.includes(secret), `no ${name} in the logs`)
  }
})

t.test('a client that goes away in the middle of its body is not logged as the database being unavailable', async (t) => {
  const lines: string[] = []
  const app = await buildApp({ config: testConfig({ LOG_LEVEL: 'info' }), databaseUrl: await fileDatabaseUrl(), logStream: { write: (line) => { lines.push(line) } } })
  t.teardown(() => app.close())
  const port = Number(new URL(await serve(app)).port)
  const site = await makeSite(app)
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  const received = once(app.server, 'request')
  socket.write(`POST /api/public/chat/sessions HTTP/1.1\r\nhost: 127.0.0.1\r\nx-api-key: ${site.apiKey}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"name":`)
  const [, res] = (await received) as [unknown, NodeJS.EventEmitter]
  socket.destroy()
  await once(res, 'close')
  // the error handler runs as the aborted body is noticed, within milliseconds
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.notOk(lines.some((l) => l.includes('database unavailable')), lines.filter((l) => l.includes('"level":40')).join(''))
})

t.test('a database error is logged with its SQL and code, never the values bound to it', async (t) => {
  const lines: string[] = []
  const app = await buildApp({ config: testConfig({ LOG_LEVEL: 'info' }), databaseUrl: await fileDatabaseUrl(), logStream: { write: (line) => { lines.push(line) } } })
  t.teardown(() => app.close())
  const email = 'private.person@example.com'
  const text = 'my card number is 4111 1111 1111 1111'
  // a NOT NULL violation: drizzle's error names the values, Postgres's detail quotes the row
  const err = await app.db.execute(sql`insert into users (email, name, password_hash, role) values (${email}, ${text}, ${null}, 'agent')`).catch((e: unknown) => e)
  t.ok(err instanceof Error && String(err.message).includes(email), 'the error itself carries the values')
  app.log.error({ err }, 'outbox round failed')
  app.log.error({ err: (err as Error).cause }, 'the driver error alone')
  const [wrapped, driver] = lines.map((l) => JSON.parse(l) as { err: Record<string, unknown> })
  t.match(wrapped?.err, { type: 'DrizzleQueryError', code: '23502', message: /^Failed query: insert into users .*\nparams: \(3 values, not logged\): null value in column "password_hash"/s })
  t.match(driver?.err, { type: 'PostgresError', code: '23502', table_name: 'users', column_name: 'password_hash' })
  for (const secret of [email, text]) t.notOk(lines.join('').includes(secret), `"${secret}" is not in the log`)
})

t.test('request logs leave out file link signatures and names, and dashboard searches', async (t) => {
  const lines: string[] = []
  const app = await buildApp({ config: testConfig({ LOG_LEVEL: 'info' }), databaseUrl: await fileDatabaseUrl(), logStream: { write: (line) => { lines.push(line) } } })
  t.teardown(() => app.close())
  const staff = await makeStaff(app)
  const file = '0b7c1a52-3f4e-4d2a-9c61-2d8e5f7a9b10'
  await app.inject({ method: 'GET', url: `/api/files/${file}/passport-anna-private.pdf?expires=4102444800&sig=s1gnatur3-s3cret` })
  await app.inject({ method: 'GET', url: '/api/chat/sessions?status=all&search=anna.private%40example.com', headers: bearer(staff) })
  const urls = lines.map((l) => (JSON.parse(l) as { req?: { url: string } }).req?.url).filter(Boolean)
  t.ok(urls.includes(`/api/files/${file}/[name]?expires=4102444800&sig=[redacted]`), 'the file link is logged by its id')
  t.ok(urls.includes('/api/chat/sessions?status=all&search=[redacted]'), 'the search is logged without its text')
  for (const secret of ['s1gnatur3', 'anna']) t.notOk(lines.join('').includes(secret), `no "${secret}" in the log`)
})
