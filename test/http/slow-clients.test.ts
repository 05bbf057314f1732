import { connect } from 'node:net'
import Fastify from 'fastify'
import t from 'tap'
import { lingerOverUnreadBody } from '../../src/http/request-deadline.js'
import { buildTestApp } from '../helpers/app.js'
import { makeSession, makeSite } from '../helpers/fixtures.js'
import { openSocket, widgetUrl } from '../helpers/sockets.js'
import { serve } from '../helpers/http.js'

/** Sends a request's headers and then its body a byte at a time; resolves with what the server said and when it hung up. */
function trickleBody(base: string, apiKey: string, giveUpMs: number): Promise<{ answer: string; closedAfterMs: number | undefined }> {
  const { hostname, port } = new URL(base)
  return new Promise((resolve) => {
    const started = Date.now()
    let answer = ''
    const socket = connect(Number(port), hostname, () => {
      socket.write(`POST /api/public/chat/sessions HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nX-API-Key: ${apiKey}\r\nContent-Length: 60000\r\n\r\n{"name":"`)
    })
    const drip = setInterval(() => socket.write('a'), 200)
    const done = (closedAfterMs: number | undefined) => {
      clearInterval(drip)
      clearTimeout(giveUp)
      socket.destroy()
      resolve({ answer, closedAfterMs })
    }
    const giveUp = setTimeout(() => done(undefined), giveUpMs)
    socket.on('data', (d) => (answer += d.toString()))
    socket.on('error', () => {})
    socket.on('close', () => done(Date.now() - started))
  })
}

t.test('a client that trickles its body is cut off after REQUEST_TIMEOUT_MS with 408: it cannot hold a connection for ever', async (t) => {
  const app = await buildTestApp(t, { env: { REQUEST_TIMEOUT_MS: '1000' } })
  const base = await serve(app)
  const site = await makeSite(app)
  const { answer, closedAfterMs } = await trickleBody(base, site.apiKey, 8000)
  t.ok(closedAfterMs !== undefined && closedAfterMs >= 900 && closedAfterMs < 5000, `closed by the server after ${closedAfterMs ?? 'more than 8000'} ms`)
  t.match(answer, /^HTTP\/1\.1 408 /, 'answered 408 Request Timeout')
})

t.test('a body that arrives in time is not cut: a slow but steady upload of a JSON body within REQUEST_TIMEOUT_MS is answered normally', async (t) => {
  const app = await buildTestApp(t, { env: { REQUEST_TIMEOUT_MS: '2000' } })
  const base = await serve(app)
  const site = await makeSite(app)
  const { hostname, port } = new URL(base)
  const body = JSON.stringify({ name: 'slow but steady' })
  const answer = await new Promise<string>((resolve) => {
    let got = ''
    const socket = connect(Number(port), hostname, () => {
      socket.write(`POST /api/public/chat/sessions HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nX-API-Key: ${site.apiKey}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 5)}`)
      setTimeout(() => socket.write(body.slice(5)), 800)
    })
    socket.on('data', (d) => (got += d.toString()))
    socket.on('close', () => resolve(got))
  })
  t.match(answer, /^HTTP\/1\.1 201 /)
})

t.test('a WebSocket is no request body: it outlives REQUEST_TIMEOUT_MS and keeps working', async (t) => {
  const app = await buildTestApp(t, { env: { REQUEST_TIMEOUT_MS: '1000' } })
  const base = (await serve(app)).replace(/^http/, 'ws')
  const s = await makeSession(app, await makeSite(app))
  const socket = await openSocket(t, widgetUrl(base, s))
  await new Promise((resolve) => setTimeout(resolve, 1500))
  socket.send({ type: 'ping' })
  await socket.waitUntil('the pong', () => socket.ofType('pong').length > 0)
  t.equal(socket.ws.readyState, socket.ws.OPEN, 'still open past the request deadline')
})

t.test('an injected request (app.inject: no real socket) whose body was read is not lingered over, and its stand-in socket is never destroyed', async (t) => {
  const app = Fastify()
  app.addHook('onSend', lingerOverUnreadBody(50))
  app.post('/echo', async (req) => req.body)
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/echo', payload: { text: 'read in full' } })
  t.same(res.json(), { text: 'read in full' })
  // past the linger: a timer left behind would have thrown from the stand-in socket by now
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.pass('no uncaught exception from a linger timer')
})
