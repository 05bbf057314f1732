import { once } from 'node:events'
import { connect } from 'node:net'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { fileDatabaseUrl, testConfig } from '../helpers/app.js'
import { makeSite } from '../helpers/fixtures.js'
import { serve } from '../helpers/http.js'

t.test('app.close() does not wait for the keep-alive timeout on a connection whose request ends after the close began', async (t) => {
  const app = await buildApp({ config: testConfig(), databaseUrl: await fileDatabaseUrl(), logger: false })
  const port = Number(new URL(await serve(app)).port)
  const site = await makeSite(app)
  const body = JSON.stringify({ userSessionId: 'drain-visitor' })
  const socket = connect(port, '127.0.0.1')
  t.teardown(() => socket.destroy())
  let answer = ''
  socket.on('data', (chunk) => (answer += chunk.toString()))
  await new Promise((resolve) => socket.once('connect', resolve))
  // the request is in flight (its body half sent) when the close begins
  const received = once(app.server, 'request')
  socket.write(`POST /api/public/chat/sessions HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: keep-alive\r\nx-api-key: ${site.apiKey}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 5)}`)
  await received
  const started = Date.now()
  const closed = app.close()
  socket.write(body.slice(5))
  await closed
  t.match(answer, /^HTTP\/1.1 201/, 'the request in flight was answered')
  t.ok(Date.now() - started < 10_000, `closed in ${Date.now() - started} ms, not after the 72 s keep-alive timeout`)
})

t.test('app.close() cuts a request that never ends after DRAIN_TIMEOUT_MS, rather than waiting for REQUEST_TIMEOUT_MS', async (t) => {
  const app = await buildApp({ config: testConfig({ DRAIN_TIMEOUT_MS: '300', REQUEST_TIMEOUT_MS: '60000' }), databaseUrl: await fileDatabaseUrl(), logger: false })
  const port = Number(new URL(await serve(app)).port)
  const site = await makeSite(app)
  const socket = connect(port, '127.0.0.1')
  t.teardown(() => socket.destroy())
  await new Promise((resolve) => socket.once('connect', resolve))
  const received = once(app.server, 'request')
  // a client that stopped sending its body
  socket.write(`POST /api/public/chat/sessions HTTP/1.1\r\nhost: 127.0.0.1\r\nx-api-key: ${site.apiKey}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"name":`)
  await received
  const started = Date.now()
  const outcome = await Promise.race([
    app.close().then(() => 'closed'),
    new Promise((resolve) => setTimeout(() => resolve('still draining after 5 s'), 5000)),
  ])
  t.equal(outcome, 'closed', `its connection cut, the close done in ${Date.now() - started} ms`)
})
