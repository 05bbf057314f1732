import t from 'tap'
import { WebSocketServer, type WebSocket } from 'ws'
import { pushLatencies } from '../../bench/sockets.js'

// a server that sends a POSTed text to socket i as a message frame, `delayMs` later
async function echoServer(delayMs: (k: number) => number) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise((resolve) => wss.once('listening', resolve))
  const sockets = new Map<number, WebSocket>()
  wss.on('connection', (ws, req) => sockets.set(Number(req.url?.slice(1)), ws))
  let k = 0
  return {
    url: (i: number) => `ws://127.0.0.1:${(wss.address() as { port: number }).port}/${i}`,
    post: async (i: number, text: string) => {
      const delay = delayMs(k++)
      setTimeout(() => sockets.get(i)?.send(JSON.stringify({ type: 'message', message: { text, seq: 1, sessionId: String(i) } })), delay)
    },
    close: () => new Promise((resolve) => wss.close(resolve)),
  }
}

t.test('the warm-up latencies come back apart from the measured ones, and each measured one with when it was posted', async (t) => {
  const rate = 50
  // the warm-up's 10 frames are slow, the measured 20 fast: a mix-up shows in either list
  const server = await echoServer((k) => (k < 10 ? 60 : 0))
  t.teardown(server.close)
  const posted: number[] = []
  const result = await pushLatencies(4, rate, 0.4, {
    socketUrl: server.url,
    post: server.post,
    warmupS: 0.2,
    record: (_i, _ms, postedMs) => posted.push(postedMs),
  })
  t.equal(result.warmup.length, 10)
  t.equal(result.measured.length, 20)
  t.ok(result.warmup.every((ms) => ms >= 55), `warm-up ${result.warmup.map(Math.round).join(',')}`)
  t.ok(result.measured.every((ms) => ms < 55), `measured ${result.measured.map(Math.round).join(',')}`)
  t.same(result.measured, [...result.measured].sort((a, b) => a - b), 'sorted')
  t.equal(posted.length, 20)
  // posted on schedule from the start of measuring: the k-th at k × 20 ms (a loaded machine posts late, not early)
  t.ok(posted.every((ms) => ms >= -1 && ms < 2000), `posted at ${posted.map(Math.round).join(',')}`)
  t.ok(Math.min(...posted) < 20, 'the first measured frame was posted as measuring began')
  t.ok(Number.isFinite(result.generatorStallMs), "the load generator's stall is measured")
})
