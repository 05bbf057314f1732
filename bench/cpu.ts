/**
 * cpu: CPU time per request of the widget's poll and send, the product against the bare
 * routes of serve-baseline.ts, on a shared machine where throughput swings: the server
 * process's and its Postgres backends' CPU (from /proc) divided by the requests served, and
 * the transactions Postgres committed per request (each statement outside a transaction is
 * one: a round trip). BENCH_CPU_MODE=poll|send (default both), BENCH_DURATION_S per contender.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { sql as dsql } from 'drizzle-orm'
import { createSite } from '../src/chat/sites.js'
import { sendMessage } from '../src/chat/messages.js'
import { createWebhook } from '../src/outbox/webhooks.js'
import { benchSecretBox, HIGH_LIMITS, runBench, SETUP_EVENTS, startBenchDb, startServer, type Row } from './lib.js'
import { closedLoop, startSink, type LoadRequest } from './load.js'
import { makeSessions } from './sockets.js'

const DURATION_MS = Number(process.env.BENCH_DURATION_S ?? 5) * 1000
const MODES = (process.env.BENCH_CPU_MODE ?? 'poll,send').split(',')
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32)
const TICK_MS = 1000 / 100 // USER_HZ

/** utime + stime of a process, in ms; 0 when it is gone */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS
  } catch {
    return 0
  }
}

/** The backends serving this database (their title names it). */
function backendsOf(dbName: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(` ${dbName} `)
    } catch {
      return false
    }
  })
}

await runBench('cpu', async () => {
  const db = await startBenchDb()
  const dbName = new URL(db.url).pathname.slice(1)
  const sink = await startSink()
  try {
    const { site } = await createSite(db.handle.db, benchSecretBox, {
      name: 'bench', origins: ['*'], telegramBotToken: '123456:bench-token', telegramChatId: '-100123',
    })
    await createWebhook(db.handle.db, benchSecretBox, { allowPrivate: true }, site.id, `${sink.url}/hook`, ['message.created'])
    const sessions = await makeSessions(db.handle.db, site.id, 32)
    const polled = sessions[0]
    if (!polled) throw new Error('no session')
    const sent = []
    for (let i = 0; i < 50; i++) sent.push((await sendMessage(db.handle.db, SETUP_EVENTS, { sessionId: polled.id, sender: i % 2 ? 'agent' : 'visitor', senderName: null, text: `message ${i} `.repeat(8) })).message)
    const since = encodeURIComponent(sent[44]?.createdAt.toISOString() ?? '')
    const product = {
      ...HIGH_LIMITS, BENCH_DB_URL: db.url, DB_POOL_SIZE: '16', TELEGRAM_API_URL: sink.url, WEBHOOK_ALLOW_PRIVATE: 'true', OUTBOX_DELIVERY: 'false',
    }
    const TEXT = 'Hello, I would like to know the price of delivery to Kyiv, please.'
    const requests: Record<string, { product: (k: number, j: number) => LoadRequest; bare: (k: number, j: number) => LoadRequest }> = {
      poll: {
        product: () => ({ method: 'GET', path: `/api/public/chat/sessions/${polled.id}/messages?since=${since}`, headers: { 'x-api-key': site.apiKey, 'x-session-token': polled.token } }),
        bare: () => ({ method: 'GET', path: `/poll/${polled.id}?since=${since}` }),
      },
      send: {
        product: (k, j) => {
          const s = sessions[(k + j * CONCURRENCY) % 32]
          return { method: 'POST', path: `/api/public/chat/sessions/${s?.id}/messages`, body: JSON.stringify({ text: TEXT }), headers: { 'x-api-key': site.apiKey, 'x-session-token': s?.token ?? '', 'content-type': 'application/json' } }
        },
        bare: (k, j) => {
          const s = sessions[(k + j * CONCURRENCY) % 32]
          return { method: 'POST', path: `/send/${s?.id}`, body: JSON.stringify({ text: TEXT }), headers: { 'x-session-token': s?.token ?? '', 'content-type': 'application/json' } }
        },
      },
    }
    const commits = async () => {
      const [row] = await db.handle.db.execute<{ n: string }>(dsql`select xact_commit::text as n from pg_stat_database where datname = current_database()`)
      return Number(row?.n ?? 0)
    }
    const rows: Row[] = []
    for (const mode of MODES) {
      const figures: Record<string, { node: number; pg: number; rt: number; rps: number }> = {}
      for (const who of ['product', 'bare'] as const) {
        const server = await startServer(who === 'product' ? 'serve-app.ts' : 'serve-baseline.ts', who === 'product' ? product : { BENCH_DB_URL: db.url, DB_POOL_SIZE: '16' })
        const origin = `http://127.0.0.1:${server.port}`
        const request = requests[mode]?.[who]
        if (!request) throw new Error(`unknown mode ${mode}`)
        await closedLoop(origin, CONCURRENCY, 1500, request)
        const backends = backendsOf(dbName)
        const pg0 = backends.map(cpuMs)
        const node0 = cpuMs(server.child.pid ?? 0)
        const c0 = await commits()
        const begin = performance.now()
        const rps = await closedLoop(origin, CONCURRENCY, DURATION_MS, request)
        const n = rps * (performance.now() - begin) / 1000
        const c1 = await commits()
        const node = cpuMs(server.child.pid ?? 0) - node0
        const pg = backends.map(cpuMs).reduce((a, b, i) => a + b - (pg0[i] ?? 0), 0)
        figures[who] = { node: node / n, pg: pg / n, rt: (c1 - c0 - 2) / n, rps }
        await server.stop()
      }
      const p = figures.product
      const b = figures.bare
      if (!p || !b) continue
      rows.push({ name: `${mode}: Node CPU per request`, value: p.node, baseline: b.node, baselineName: 'bare route', unit: 'ms' })
      rows.push({ name: `${mode}: Postgres CPU per request`, value: p.pg, baseline: b.pg, unit: 'ms' })
      rows.push({ name: `${mode}: statements per request`, value: p.rt, baseline: b.rt, unit: '' })
      rows.push({ name: `${mode}: req/s (noisy)`, value: p.rps, baseline: b.rps, unit: 'req/s' })
    }
    return { title: `cpu per request, c=${CONCURRENCY}, ${DURATION_MS / 1000} s each`, rows }
  } finally {
    await sink.stop()
    await db.stop()
  }
})
