/** Load generators shared by the benches: closed-loop HTTP workers, and a sink standing in for Telegram and webhook receivers. */
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Pool } from 'undici'
import { fail } from './lib.js'

export type LoadRequest = { method: 'GET' | 'POST'; path: string; headers?: Record<string, string>; body?: string }

/**
 * `concurrency` workers, each on its own keep-alive connection, sending one request after
 * another for `durationMs`; worker k's j-th request is `request(k, j)`. Any answer that is
 * not 2xx (or a connection error) stops the bench with the request and the answer.
 * Returns completed requests per second.
 */
export async function closedLoop(origin: string, concurrency: number, durationMs: number, request: (worker: number, j: number) => LoadRequest): Promise<number> {
  const pool = new Pool(origin, { connections: concurrency, pipelining: 1 })
  let count = 0
  const deadline = performance.now() + durationMs
  const begin = performance.now()
  try {
    await Promise.all(Array.from({ length: concurrency }, async (_, k) => {
      for (let j = 0; performance.now() < deadline; j++) {
        const r = request(k, j)
        const res = await pool.request({ method: r.method, path: r.path, headers: r.headers, body: r.body })
        const body = await res.body.text()
        if (res.statusCode < 200 || res.statusCode > 299) fail(`${r.method} ${r.path} answered ${res.statusCode}: ${body.slice(0, 300)}`)
        count++
      }
    }))
  } finally {
    await pool.close()
  }
  return count / ((performance.now() - begin) / 1000)
}

export type Sink = { url: string; hits: () => number; stop: () => Promise<void> }

/**
 * A local stand-in for the Bot API and for webhook receivers (the only stand-ins allowed
 * are for internet services): every call succeeds at once, except getUpdates, which holds
 * the call for its `timeout` seconds and then answers "no updates", as the real Bot API's
 * long poll does (answered at once, the product's Telegram reader would ask again and again).
 */
export async function startSink(): Promise<Sink> {
  let hits = 0
  const held = new Set<NodeJS.Timeout>()
  const answer = (res: ServerResponse, result: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, result }))
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString()))
    req.on('end', () => {
      hits++
      const method = (req.url ?? '').split('/').pop() ?? ''
      if (method === 'getUpdates') {
        const timeoutS = Number((JSON.parse(body || '{}') as { timeout?: number }).timeout ?? 0)
        const timer = setTimeout(() => {
          held.delete(timer)
          answer(res, [])
        }, timeoutS * 1000)
        held.add(timer)
        return
      }
      answer(res, method === 'getMe' ? { id: 1, is_bot: true, first_name: 'Bench', username: 'bench_bot' } : { message_id: hits, chat: { id: -1 }, date: 0 })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    stop: () => new Promise((resolve) => {
      for (const timer of held) clearTimeout(timer)
      server.close(() => resolve())
      // the held long polls
      server.closeAllConnections()
    }),
  }
}
