import { connect, createServer, type Server, type Socket } from 'node:net'
import t from 'tap'
import { buildTestApp, fileDatabaseUrl } from '../helpers/app.js'
import { makeSite, startSessionRequest } from '../helpers/fixtures.js'
import { waitFor } from '../helpers/wait.js'

/**
 * A TCP relay in front of the real test database, so a test can take the database away
 * from the app: `blackhole()` keeps accepting connections but never answers (a network
 * partition: open connections go silent too), `close()` cuts them and refuses new ones
 * (the server is gone).
 */
async function databaseRelay(databaseUrl: string) {
  const target = new URL(databaseUrl)
  const sockets = new Set<Socket>()
  const pipes = new Set<[Socket, Socket]>()
  let mode: 'relay' | 'blackhole' = 'relay'
  const server: Server = createServer((client) => {
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    client.on('error', () => {})
    if (mode === 'blackhole') return
    const upstream = connect(Number(target.port), target.hostname)
    sockets.add(upstream)
    upstream.on('close', () => sockets.delete(upstream))
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
    client.pipe(upstream).pipe(client)
    pipes.add([client, upstream])
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const url = new URL(databaseUrl)
  url.port = String(typeof address === 'object' && address ? address.port : 0)
  const cutAll = () => { for (const s of sockets) s.destroy() }
  return {
    url: url.toString(),
    blackhole: () => {
      mode = 'blackhole'
      for (const [client, upstream] of pipes) {
        client.unpipe(upstream)
        upstream.unpipe(client)
        client.resume() // swallow what the app sends
      }
    },
    close: () => new Promise<void>((resolve) => { cutAll(); server.close(() => resolve()) }),
  }
}

t.test('healthz is 200 with db ok when the database answers', async (t) => {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/healthz' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { success: true, data: { status: 'ok', db: 'ok' } })
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
