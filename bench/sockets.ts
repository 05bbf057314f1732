/** Plumbing for the socket benchmarks: many sessions at once, many client sockets, a bare `ws` baseline. */
import { sql } from 'drizzle-orm'
import WebSocket from 'ws'
import { benchSecretBox, sleep } from './lib.js'
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

/** Opens sockets `parallel` at a time; `onFrame` gets each parsed frame with the socket's index. */
export async function openSockets(urls: string[], onFrame: (i: number, frame: Frame) => void, parallel = 200): Promise<WebSocket[]> {
  const sockets: WebSocket[] = new Array(urls.length)
  let next = 0
  async function worker() {
    while (next < urls.length) {
      const i = next++
      const url = urls[i] ?? ''
      sockets[i] = await new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(url, { perMessageDeflate: false })
        ws.on('message', (data) => onFrame(i, JSON.parse(data.toString()) as Frame))
        ws.once('open', () => resolve(ws))
        ws.once('error', reject)
      })
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker))
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

/** The server's memory after a full GC (bench servers run with --expose-gc). */
export async function serverMemory(port: number): Promise<Memory> {
  const res = await fetch(`http://127.0.0.1:${port}/__bench/memory`)
  return (await res.json()) as Memory
}

export const widgetSocketUrl = (port: number, apiKey: string, s: BenchSession | undefined) =>
  `ws://127.0.0.1:${port}/api/public/chat/sessions/${s?.id}/ws?apiKey=${apiKey}&token=${s?.token}`

export async function agentPost(port: number, jwt: string, sessionId: string | undefined, text: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/api/chat/sessions/${sessionId}/messages`, {
    method: 'POST', headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' }, body: JSON.stringify({ text }),
  })
  await res.arrayBuffer()
}

export type Target = { socketUrl: (i: number) => string; post: (i: number, text: string) => Promise<void> }

/** Offers `ratePerS` messages to random sockets for `durationS` (open loop); each one's POST → frame latency in ms, sorted. */
export async function pushLatencies(n: number, ratePerS: number, durationS: number, target: Target): Promise<number[]> {
  const started = new Map<string, number>()
  const latencies: number[] = []
  const sockets = await openSockets(Array.from({ length: n }, (_, i) => target.socketUrl(i)), (_i, frame: Frame) => {
    const text = frame.message?.text
    const t0 = text === undefined ? undefined : started.get(text)
    if (t0 !== undefined && text !== undefined) {
      latencies.push(performance.now() - t0)
      started.delete(text)
    }
  })
  const total = ratePerS * durationS
  const posts: Promise<void>[] = []
  const begin = performance.now()
  for (let k = 0; k < total; k++) {
    const due = begin + (k * 1000) / ratePerS
    const wait = due - performance.now()
    if (wait > 0) await sleep(wait)
    const text = `push ${k} ${'x'.repeat(60)}`
    started.set(text, performance.now())
    posts.push(target.post(Math.floor(Math.random() * n), text))
  }
  await Promise.all(posts)
  for (let i = 0; i < 100 && started.size > 0; i++) await sleep(50)
  if (started.size) console.warn(`warning: ${started.size} frames never arrived`)
  await closeSockets(sockets)
  return latencies.sort((a, b) => a - b)
}

