/**
 * typing: what typing costs message throughput. Visitor POST .../messages at concurrency 32
 * (each client its own session), measured with nobody typing and with 200 other visitors
 * typing (each widget socket sends `typing` every 2 s, the contract's rate) while a
 * dashboard socket receives every relayed event; the same server, alternating runs, in one
 * run. Met when throughput with typing is at least 0.9× that without (issue 12).
 */
import autocannon from 'autocannon'
import { createBenchSite, HIGH_LIMITS, runBench, sleep, startBenchDb, startServer, type Row } from './lib.js'
import { closeSockets, makeSessions, openSockets, staffToken, widgetSocketUrl } from './sockets.js'

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 8)
const CONCURRENCY = 32
const TYPERS = 200
const TYPING_EVERY_MS = 2000
// runs alternate (without, with, without, with…) so a noisy neighbour hurts both alike
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
const TARGET = 0.9
const TEXT = 'Hello, I would like to know the price of delivery to Kyiv, please.'

await runBench('typing', async () => {
const db = await startBenchDb()
try {
  const site = await createBenchSite(db)
  const server = await startServer('serve-app.ts', { BENCH_DB_URL: db.url, ...HIGH_LIMITS, DB_POOL_SIZE: '32' })
  const senders = await makeSessions(db.handle.db, site.id, CONCURRENCY)
  const typers = await makeSessions(db.handle.db, site.id, TYPERS)
  const jwt = await staffToken(server.port, db.handle.db)
  let relayed = 0
  const [dashboard] = await openSockets([`ws://127.0.0.1:${server.port}/api/chat/ws?token=${jwt}`], (_i, f) => {
    if (f.type === 'typing') relayed++
  })
  const widgets = await openSockets(typers.map((s) => widgetSocketUrl(server.port, site.apiKey, s)), () => {})

  async function sendLoad(): Promise<number> {
    const results = await Promise.all(senders.map((s) => autocannon({
      url: `http://127.0.0.1:${server.port}/api/public/chat/sessions/${s.id}/messages`,
      method: 'POST',
      connections: 1,
      duration: DURATION_S,
      headers: { 'x-api-key': site.apiKey, 'x-session-token': s.token, 'content-type': 'application/json' },
      body: JSON.stringify({ text: TEXT }),
    })))
    const non2xx = results.reduce((n, r) => n + r.non2xx, 0)
    if (non2xx) console.warn(`warning: ${non2xx} non-2xx answers`)
    return results.reduce((n, r) => n + r.requests.total - r.non2xx, 0) / DURATION_S
  }

  /** Every widget sends `typing` every 2 s, spread evenly over the interval, until stopped. */
  function startTyping(): () => void {
    const timers = widgets.map((ws, i) => {
      let interval: ReturnType<typeof setInterval> | undefined
      const first = setTimeout(() => {
        ws.send('{"type":"typing"}')
        interval = setInterval(() => ws.send('{"type":"typing"}'), TYPING_EVERY_MS)
      }, (i * TYPING_EVERY_MS) / widgets.length)
      return () => {
        clearTimeout(first)
        clearInterval(interval)
      }
    })
    return () => timers.forEach((stop) => stop())
  }

  // a first run warms the server (JIT, pools) and is not counted
  await sendLoad()
  const without: number[] = []
  const withTyping: number[] = []
  let relayedWhileTyping = 0
  for (let round = 0; round < ROUNDS; round++) {
    without.push(await sendLoad())
    const stop = startTyping()
    // let the typing settle into its steady rate first
    await sleep(TYPING_EVERY_MS)
    const before = relayed
    withTyping.push(await sendLoad())
    relayedWhileTyping += relayed - before
    stop()
    await sleep(500)
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  const rows: Row[] = [{
    name: `c=${CONCURRENCY} sends with ${TYPERS} visitors typing vs nobody typing`,
    value: mean(withTyping), baseline: mean(without), unit: 'msg/s',
    baselineName: 'nobody typing', target: { op: '≥', ratio: TARGET },
  }]
  const note = `Runs: without ${without.map((x) => x.toFixed(0)).join(', ')}; with ${withTyping.map((x) => x.toFixed(0)).join(', ')} msg/s. ` +
    `The dashboard received ${(relayedWhileTyping / (ROUNDS * DURATION_S)).toFixed(0)} typing events/s while measuring (200 typers at one per 2 s is about 100/s).`
  await closeSockets([...widgets, ...(dashboard ? [dashboard] : [])])
  await server.stop()
  return { title: `typing: message throughput with and without typing, ${ROUNDS} alternating rounds of ${DURATION_S} s`, rows, note }
} finally {
  await db.stop()
}
})
