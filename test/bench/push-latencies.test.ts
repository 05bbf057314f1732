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

t.test('only measured latencies count, each told with when it was posted since measuring began', async (t) => {
  // the warm-up's 10 frames are slow, the measured 20 fast: a warm-up frame counted shows
  // (300 ms against a bound of 250: room for a loaded machine's stalls, as the test files run three at a time)
  const server = await echoServer((k) => (k < 10 ? 300 : 0))
  t.teardown(server.close)
  const posted: number[] = []
  const result = await pushLatencies(4, 50, 0.4, {
    socketUrl: server.url,
    post: server.post,
    warmupS: 0.2,
    record: (_i, _ms, postedMs) => posted.push(postedMs),
  })
  t.equal(result.latencies.length, 20)
  t.ok(result.latencies.every((ms) => ms < 250), `measured ${result.latencies.map(Math.round).join(',')}`)
  t.same(result.latencies, [...result.latencies].sort((a, b) => a - b), 'sorted')
  // posted on schedule from the start of measuring, one every 20 ms: counted from the start of
  // the warm-up, the first would read 200. Posts are late on a loaded machine, and may read a
  // little early too: a timer for a fractional delay can fire before its due time
  posted.sort((a, b) => a - b)
  t.equal(posted.length, 20)
  t.ok((posted[0] ?? Infinity) < 150 && posted.every((ms, k) => ms >= k * 20 - 15 && ms < 2000), `posted at ${posted.map(Math.round).join(',')}`)
  t.ok(Number.isFinite(result.generatorStallMs), "the load generator's stall is measured")
})

t.test('paired: every socket watching the posted target is owed its frame, each told with the post\'s number', async (t) => {
  // target i is watched by sockets 2i (its frame at once) and 2i + 1 (5 ms later)
  const server = await echoServer(() => 0)
  t.teardown(server.close)
  const pairedPost = (i: number, text: string) => {
    setTimeout(() => void server.post(2 * i + 1, text), 5)
    return server.post(2 * i, text)
  }
  const byPost = new Map<number, Map<number, number>>()
  const result = await pushLatencies(6, 50, 0.4, {
    socketUrl: server.url,
    targets: 3,
    framesPerPost: 2,
    post: pairedPost,
    record: (socket, ms, _postedMs, post) => byPost.set(post, (byPost.get(post) ?? new Map<number, number>()).set(socket, ms)),
  })
  t.equal(result.latencies.length, 40, 'two frames for each of the 20 posts')
  t.same([...byPost.keys()].sort((a, b) => a - b), Array.from({ length: 20 }, (_, k) => k), 'every post numbered from 0')
  for (const [post, sockets] of byPost) {
    const [first, second] = [...sockets.keys()].sort((a, b) => a - b)
    t.ok(first !== undefined && first % 2 === 0 && second === first + 1, `post ${post} reached both sockets of one target (${[...sockets.keys()].join(', ')})`)
    t.ok((sockets.get(second ?? -1) ?? 0) >= (sockets.get(first ?? -1) ?? Infinity), `post ${post}: the later socket's latency is the later one`)
  }
})

t.test('paired: a post that reaches only one of its sockets fails the run', async (t) => {
  const server = await echoServer(() => 0)
  t.teardown(server.close)
  await t.rejects(pushLatencies(4, 50, 0.2, {
    socketUrl: server.url,
    targets: 2,
    framesPerPost: 2,
    post: (i, text) => server.post(2 * i, text),
  }), /10 of 20 frames \(of 10 posts\) never arrived/)
})
