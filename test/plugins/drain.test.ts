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
