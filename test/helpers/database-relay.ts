import { connect, createServer, type Server, type Socket } from 'node:net'

const SSL_REQUEST_CODE = 80877103

/** Splits what a Postgres client sends into messages: the untyped startup (or SSL request) first, then typed ones. */
function frontendMessages(onMessage: (type: string) => void): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0)
  let started = false
  return (chunk) => {
    pending = Buffer.concat([pending, chunk])
    for (;;) {
      const typed = started ? 1 : 0
      if (pending.length < typed + 4) return
      const length = pending.readInt32BE(typed)
      if (length < 4) return void (pending = Buffer.alloc(0)) // not the protocol we know: stop counting
      if (pending.length < typed + length) return
      if (started) onMessage(String.fromCharCode(pending[0] ?? 0))
      else started = !(length === 8 && pending.readInt32BE(4) === SSL_REQUEST_CODE)
      pending = pending.subarray(typed + length)
    }
  }
}

/**
 * A TCP relay in front of the real test database, so a test can take the database away
 * from the app: `blackhole()` keeps accepting connections but never answers (a network
 * partition: open connections go silent too), `close()` cuts them and refuses new ones
 * (the server is gone), `hold(name)` keeps the connections whose startup named that application
 * open but silent from the server's side until `release()` (the bus's LISTEN connection, say:
 * notifications wait in Postgres). With `countQueries`, `queries()` counts the queries the app has sent so far (simple
 * queries and extended-protocol Syncs), for tests that a path does no per-request database work.
 */
export async function databaseRelay(databaseUrl: string, opts: { countQueries?: boolean } = {}) {
  const target = new URL(databaseUrl)
  const sockets = new Set<Socket>()
  const pipes = new Set<[Socket, Socket]>()
  /** each client's first bytes: its startup message, with its application_name */
  const startups = new Map<Socket, string>()
  const held = new Set<[Socket, Socket]>()
  let mode: 'relay' | 'blackhole' = 'relay'
  let queries = 0
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
    if (opts.countQueries) client.on('data', frontendMessages((type) => { if (type === 'Q' || type === 'S') queries++ }))
    client.once('data', (chunk: Buffer) => void startups.set(client, chunk.toString('latin1')))
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
    queries: () => queries,
    blackhole: () => {
      mode = 'blackhole'
      for (const [client, upstream] of pipes) {
        client.unpipe(upstream)
        upstream.unpipe(client)
        client.resume() // swallow what the app sends
      }
    },
    hold: (applicationName: string) => {
      for (const pair of pipes) {
        const [client, upstream] = pair
        if (!startups.get(client)?.includes(`\0${applicationName}\0`)) continue
        upstream.unpipe(client)
        upstream.pause()
        held.add(pair)
      }
      return held.size
    },
    release: () => {
      for (const [client, upstream] of held) upstream.pipe(client)
      held.clear()
    },
    close: () => new Promise<void>((resolve) => { cutAll(); server.close(() => resolve()) }),
  }
}
