/**
 * cpu: CPU time per request of the widget's poll and send, the product against the bare
 * routes of serve-baseline.ts, on a shared machine where throughput swings: the server
 * process's and its Postgres backends' CPU (from /proc) divided by the requests served, in
 * short alternating rounds. BENCH_CPU_MODE=poll|send (default both), BENCH_DURATION_S per
 * contender, BENCH_CPU_BEFORE=<another worktree> adds that tree's product (before/after).
 * Every send carries a fresh clientMessageId, as the widget's do; the bare route stores it too.
 */
import { randomUUID } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { createSite } from '../src/chat/sites.js'
import { sendMessage } from '../src/chat/messages.js'
import { createWebhook } from '../src/outbox/webhooks.js'
import { benchSecretBox, HIGH_LIMITS, runBench, SETUP_EVENTS, startBenchDb, startServer, type Row, type Server } from './lib.js'
import { closedLoop, startSink, type LoadRequest } from './load.js'
import { makeSessions } from './sockets.js'

const ROUND_MS = 2000
const ROUNDS = Math.max(2, Math.round(Number(process.env.BENCH_DURATION_S ?? 8) / (ROUND_MS / 1000)))
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

/** Median and range of per-round ratios: a before/after A/B on a shared machine is read by its spread, not by one sum. */
function spread(ratios: number[]): string {
  const sorted = [...ratios].sort((a, b) => a - b)
  const mid = sorted.length / 2
  const median = sorted.length % 2 ? sorted[Math.floor(mid)] ?? NaN : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2
  const x = (n: number | undefined) => `${(n ?? NaN).toFixed(2)}×`
  return `median ${x(median)}, range ${x(sorted[0])}–${x(sorted.at(-1))} over ${sorted.length} rounds`
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
          return { method: 'POST', path: `/api/public/chat/sessions/${s?.id}/messages`, body: JSON.stringify({ text: TEXT, clientMessageId: randomUUID() }), headers: { 'x-api-key': site.apiKey, 'x-session-token': s?.token ?? '', 'content-type': 'application/json' } }
        },
        bare: (k, j) => {
          const s = sessions[(k + j * CONCURRENCY) % 32]
          return { method: 'POST', path: `/send/${s?.id}`, body: JSON.stringify({ text: TEXT, clientMessageId: randomUUID() }), headers: { 'x-session-token': s?.token ?? '', 'content-type': 'application/json' } }
        },
      },
    }
    const rows: Row[] = []
    const notes: string[] = []
    // BENCH_CPU_BEFORE=/path/to/other/worktree: that tree's product too, in the same rounds (before/after)
    const before = process.env.BENCH_CPU_BEFORE
    type Contender = { name: string; server: Server; kind: 'product' | 'bare' }
    const contenders: Contender[] = [
      { name: 'product', kind: 'product', server: await startServer('serve-app.ts', product) },
      ...(before ? [{ name: 'before', kind: 'product' as const, server: await startServer(`${before}/bench/serve-app.ts`, product) }] : []),
      { name: 'bare', kind: 'bare', server: await startServer('serve-baseline.ts', { BENCH_DB_URL: db.url, DB_POOL_SIZE: '16' }) },
    ]
    try {
      for (const mode of MODES) {
        const sums = new Map<string, { node: number; pg: number; n: number; ms: number }>()
        // each round's Node CPU per request, by contender: rounds next to each other share the machine's load
        const perRound = new Map<string, number[]>()
        const run = async (x: Contender, ms: number, measure: boolean) => {
          const request = requests[mode]?.[x.kind]
          if (!request) throw new Error(`unknown mode ${mode}`)
          const origin = `http://127.0.0.1:${x.server.port}`
          const backends = backendsOf(dbName)
          const pg0 = backends.map(cpuMs)
          const node0 = cpuMs(x.server.child.pid ?? 0)
          const begin = performance.now()
          const rps = await closedLoop(origin, CONCURRENCY, ms, request)
          const elapsed = performance.now() - begin
          if (!measure) return
          const node = cpuMs(x.server.child.pid ?? 0) - node0
          const s = sums.get(x.name) ?? { node: 0, pg: 0, n: 0, ms: 0 }
          s.node += node
          s.pg += backends.map(cpuMs).reduce((a, b, i) => a + b - (pg0[i] ?? 0), 0)
          s.n += rps * elapsed / 1000
          s.ms += elapsed
          sums.set(x.name, s)
          perRound.set(x.name, [...(perRound.get(x.name) ?? []), node / (rps * elapsed / 1000)])
        }
        for (const x of contenders) await run(x, 1500, false)
        for (let round = 0; round < ROUNDS; round++) {
          for (const x of round % 2 ? [...contenders].reverse() : contenders) await run(x, ROUND_MS, true)
        }
        const pairs = (perRound.get('product') ?? []).map((p, i) => p / (perRound.get('before')?.[i] ?? NaN)).filter(Number.isFinite)
        if (pairs.length > 0) notes.push(`${mode}: product / before Node CPU per request, round by round: ${spread(pairs)}`)
        const b = sums.get('bare')
        if (!b) continue
        for (const name of ['product', 'before']) {
          const p = sums.get(name)
          if (!p) continue
          rows.push({ name: `${mode}: ${name} Node CPU per request`, value: p.node / p.n, baseline: b.node / b.n, baselineName: 'bare route', unit: 'ms' })
          rows.push({ name: `${mode}: ${name} Postgres CPU per request`, value: p.pg / p.n, baseline: b.pg / b.n, unit: 'ms' })
          rows.push({ name: `${mode}: ${name} req/s`, value: p.n / (p.ms / 1000), baseline: b.n / (b.ms / 1000), unit: 'req/s' })
        }
      }
    } finally {
      for (const x of contenders) await x.server.stop()
    }
    return { title: `cpu per request, c=${CONCURRENCY}, ${ROUNDS} alternating rounds of ${ROUND_MS / 1000} s`, rows, ...(notes.length ? { note: notes.join('\n') } : {}) }
  } finally {
    await sink.stop()
    await db.stop()
  }
})
