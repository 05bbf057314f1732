/** Plumbing for the socket benchmarks: many sessions at once, many client sockets, a bare `ws` baseline. */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { sql } from 'drizzle-orm'
import WebSocket from 'ws'
import { benchSecretBox, fail, sleep } from './lib.js'
import type { Db } from '../src/db/client.js'
import { getOrCreateSecretSetting } from '../src/chat/settings.js'
import { sessionToken } from '../src/chat/session-tokens.js'
import { randomToken } from '../src/chat/secrets.js'
import { createUser } from '../src/chat/users.js'

export type BenchSession = { id: string; token: string }

/** `n` open sessions of a site in one statement, with the tokens the server will accept. */
export async function makeSessions(db: Db, siteId: string, n: number): Promise<BenchSession[]> {
  const rows = await db.execute<{ id: string }>(sql`
    insert into chat_sessions (site_id, user_session_id)
    select ${siteId}::uuid, 'bench-' || g || '-' || md5(random()::text) from generate_series(1, ${n}) g
    returning id`)
  // the same secret the app creates on start (first one to insert wins)
  const secret = await getOrCreateSecretSetting(db, benchSecretBox, 'session_token_secret', () => randomToken('', 48))
  return [...rows].map((r) => ({ id: r.id, token: sessionToken(secret, r.id) }))
}

export async function staffToken(port: number, db: Db): Promise<string> {
  const email = `bench-${Date.now()}@example.com`
  await createUser(db, { email, name: 'Bench Agent', password: 'bench-password', role: 'agent' })
  const res = await fetch(`http://127.0.0.1:${port}/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'bench-password' }),
  })
  return ((await res.json()) as { data: { token: string } }).data.token
}

export type Frame = { type: string; message?: { text: string; seq: number; sessionId: string } }

/** Source addresses for the client side: each has its own ~28k ephemeral ports, so 10k+ sockets to one server port fit. */
export const SOURCE_ADDRESSES = Number(process.env.BENCH_SOURCE_ADDRESSES ?? 8)
const sourceAddress = (i: number) => `127.0.0.${1 + (i % SOURCE_ADDRESSES)}`

/**
 * Opens sockets `parallel` at a time, from several loopback source addresses; `onFrame` gets
 * each parsed frame with the socket's index and when it arrived (performance.now(), taken
 * before the frame is parsed).
 */
export async function openSockets(urls: string[], onFrame: (i: number, frame: Frame, arrivedMs: number) => void, parallel = 200): Promise<WebSocket[]> {
  const sockets: WebSocket[] = new Array(urls.length)
  let next = 0
  async function worker() {
    while (next < urls.length) {
      const i = next++
      const url = urls[i] ?? ''
      sockets[i] = await new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(url, { perMessageDeflate: false, localAddress: sourceAddress(i) })
        ws.on('message', (data) => {
          const arrivedMs = performance.now()
          onFrame(i, JSON.parse(data.toString()) as Frame, arrivedMs)
        })
        ws.once('open', () => resolve(ws))
        ws.once('error', (err) => reject(new Error(`socket ${i} of ${urls.length} did not open: ${err.message}`)))
        ws.once('unexpected-response', (_req, res) => reject(new Error(`socket ${i} of ${urls.length} was refused: HTTP ${res.statusCode}`)))
      })
    }
  }
  try {
    await Promise.all(Array.from({ length: parallel }, worker))
  } catch (err) {
    await closeSockets(sockets.filter(Boolean))
    fail((err as Error).message)
  }
  return sockets
}

export async function closeSockets(sockets: WebSocket[]): Promise<void> {
  await Promise.all(sockets.map((ws) => new Promise<void>((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve()
    ws.once('close', () => resolve())
    ws.terminate()
  })))
}

export type Memory = { rss: number; heapUsed: number }

/** The server's memory after full GCs, once the pages they freed are returned (bench/memory-after-gc.ts). */
export async function serverMemory(port: number): Promise<Memory> {
  const res = await fetch(`http://127.0.0.1:${port}/__bench/memory`)
  return (await res.json()) as Memory
}

export const widgetSocketUrl = (port: number, apiKey: string, s: BenchSession | undefined) =>
  `ws://127.0.0.1:${port}/api/public/chat/sessions/${s?.id}/ws?apiKey=${apiKey}&token=${s?.token}`

/** A POST that must succeed: anything but 2xx stops the bench. */
export async function post(url: string, headers: Record<string, string>, body: string): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
    .catch((err: Error) => fail(`POST ${url} got no answer: ${String((err.cause as Error | undefined)?.message ?? err.message)}`))
  const text = await res.text()
  if (res.status < 200 || res.status > 299) fail(`POST ${url} answered ${res.status}: ${text.slice(0, 300)}`)
}

export const agentPost = (port: number, jwt: string, sessionId: string | undefined, text: string) =>
  post(`http://127.0.0.1:${port}/api/chat/sessions/${sessionId}/messages`, { authorization: `Bearer ${jwt}` }, JSON.stringify({ text }))

export type PushTarget = {
  socketUrl: (i: number) => string
  /** posts to target `i`, in [firstMeasured, targets): by default socket `i`'s session */
  post: (i: number, text: string) => Promise<void>
  /** how many targets the posts choose among; default `n`, one per socket */
  targets?: number
  /** how many sockets watch each posted session, each owed its frame; default 1 */
  framesPerPost?: number
  /** other traffic while the latencies are measured (e.g. visitors writing); started after the sockets open */
  background?: () => { stop: () => Promise<void> }
  /** the measured posts go to targets [firstMeasured, targets); default 0 */
  firstMeasured?: number
  /**
   * The frame that says a socket's set-up is done (e.g. the server's first `session` frame,
   * sent after its backlog): measuring starts once every socket has had one, so the first
   * latencies do not queue behind thousands of sockets' set-up reads.
   */
  ready?: (frame: Frame) => boolean
  /** seconds of the same traffic before measuring, whose latencies are not counted; default 0 */
  warmupS?: number
  /**
   * told each measured latency with its socket's index, when it was posted (ms since measuring
   * began) and the post's number (to split one run's figures by socket, by time or by post)
   */
  record?: (i: number, ms: number, postedMs: number, post: number) => void
}

/**
 * One run's measured POST → frame latencies in ms, sorted, and the longest the load
 * generator's own event loop was held up while measuring: this process posts, reads every
 * socket and times them, so a stall of it (the machine's or its own GC's) is in the latencies.
 */
export type PushResult = { latencies: number[]; generatorStallMs: number }

/**
 * Offers `ratePerS` messages to random sessions for the warm-up and then `durationS` (open
 * loop), and times each measured one's POST → frame on every socket that watches its session.
 * A frame that never arrives stops the bench.
 */
export async function pushLatencies(n: number, ratePerS: number, durationS: number, target: PushTarget): Promise<PushResult> {
  /** measured posts by text: when posted, their number, and how many frames are still to come */
  const started = new Map<string, { t0: number; post: number; owed: number }>()
  const latencies: number[] = []
  let measuringFrom = 0
  const notReady = new Set(target.ready ? Array.from({ length: n }, (_, i) => i) : [])
  const sockets = await openSockets(Array.from({ length: n }, (_, i) => target.socketUrl(i)), (i, frame: Frame, arrivedMs) => {
    if (target.ready?.(frame)) notReady.delete(i)
    const text = frame.message?.text
    const posted = text === undefined ? undefined : started.get(text)
    if (posted !== undefined && text !== undefined) {
      const ms = arrivedMs - posted.t0
      latencies.push(ms)
      target.record?.(i, ms, posted.t0 - measuringFrom, posted.post)
      if (--posted.owed === 0) started.delete(text)
    }
  })
  for (let waited = 0; notReady.size > 0; waited += 50) {
    if (waited > 60_000) fail(`${notReady.size} of ${n} sockets got no ready frame within 60 s of opening`)
    await sleep(50)
  }
  const background = target.background?.()
  const warmup = Math.round(ratePerS * (target.warmupS ?? 0))
  const total = warmup + Math.round(ratePerS * durationS)
  const posts: Promise<void>[] = []
  const generatorDelay = monitorEventLoopDelay({ resolution: 5 })
  const begin = performance.now()
  for (let k = 0; k < total; k++) {
    const due = begin + (k * 1000) / ratePerS
    const wait = due - performance.now()
    if (wait > 0) await sleep(wait)
    const text = `push ${k} ${'x'.repeat(60)}`
    if (k === warmup) {
      measuringFrom = due
      generatorDelay.enable()
    }
    if (k >= warmup) started.set(text, { t0: performance.now(), post: k - warmup, owed: target.framesPerPost ?? 1 })
    const first = target.firstMeasured ?? 0
    const posted = target.post(first + Math.floor(Math.random() * ((target.targets ?? n) - first)), text)
    posted.catch(() => {}) // reported by the Promise.all below, not as an unhandled rejection
    posts.push(posted)
  }
  await Promise.all(posts)
  for (let i = 0; i < 100 && started.size > 0; i++) await sleep(50)
  generatorDelay.disable()
  await background?.stop()
  await closeSockets(sockets)
  if (started.size) {
    const missing = [...started.values()].reduce((sum, p) => sum + p.owed, 0)
    fail(`${missing} of ${(total - warmup) * (target.framesPerPost ?? 1)} frames (of ${started.size} posts) never arrived within 5 s of the last POST`)
  }
  return { latencies: latencies.sort((a, b) => a - b), generatorStallMs: generatorDelay.max / 1e6 }
}

/** `perS` POSTs a second spread over `count` senders until stopped (open loop); every one must succeed. */
export function steadySenders(count: number, perS: number, send: (i: number, k: number) => Promise<void>): { stop: () => Promise<void> } {
  let stopped = false
  const inFlight = new Set<Promise<void>>()
  let errors: unknown
  const loop = (async () => {
    const begin = performance.now()
    for (let k = 0; !stopped; k++) {
      const wait = begin + (k * 1000) / perS - performance.now()
      if (wait > 0) await sleep(wait)
      const p = send(k % count, k).catch((err: unknown) => { errors ??= err })
      inFlight.add(p)
      void p.finally(() => inFlight.delete(p))
    }
  })()
  return {
    stop: async () => {
      stopped = true
      await loop
      await Promise.all(inFlight)
      if (errors) throw errors
    },
  }
}
