/** Load generators shared by the benches: closed-loop HTTP workers, and a sink standing in for Telegram and webhook receivers. */
import { createServer } from 'node:http'
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
 * are for internet services): every call succeeds at once.
 */
export async function startSink(): Promise<Sink> {
  let hits = 0
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      hits++
      const method = (req.url ?? '').split('/').pop() ?? ''
      const result = method === 'getUpdates' ? [] : method === 'getMe' ? { id: 1, is_bot: true, first_name: 'Bench', username: 'bench_bot' } : { message_id: hits, chat: { id: -1 }, date: 0 }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, result }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
