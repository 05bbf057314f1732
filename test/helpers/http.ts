import { execFile } from 'node:child_process'
import { request } from 'node:http'
import { promisify } from 'node:util'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'

/** Listens on a free loopback port (closed with the app) and returns the http:// base URL. */
export async function serve(app: FastifyInstance): Promise<string> {
  if (!app.server.listening) await app.listen({ port: 0, host: '127.0.0.1' })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

export type Answer = {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: { success?: boolean; data?: Record<string, unknown>; error?: { code: string; message: string } } & Record<string, unknown>
  text: string
}

export type CallOptions = {
  method?: string
  headers?: Record<string, string>
  /** sent as JSON (with its content type) unless a string */
  body?: unknown
  /** the loopback address to connect from (127.0.0.2, ...): another client as the server sees it */
  from?: string
}

/** One real HTTP request (node:http, no keep-alive); the answer's body parsed as JSON when it is JSON. */
export function call(base: string, path: string, opts: CallOptions = {}): Promise<Answer> {
  const headers = { ...opts.headers }
  let body: string | undefined
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body)
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json'
  }
  return new Promise((resolve, reject) => {
    const req = request(base + path, {
      method: opts.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      ...(opts.from ? { localAddress: opts.from } : {}),
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        // not JSON (HTML pages, empty 204s): an empty body
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parseJson(text), text })
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** A JSON call over real HTTP through fetch (keep-alive, like browsers); a network error is status 0. */
export async function fetchJson(
  base: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: unknown } = {},
): Promise<{ status: number; body: Record<string, unknown> & { data?: Record<string, unknown>; error?: { code: string } } }> {
  let status: number
  let text: string
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }), ...opts.headers },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: AbortSignal.timeout(10_000),
    })
    status = res.status
    text = await res.text()
  } catch {
    // refused, reset, cut off or timed out: what a widget sees as a network error
    return { status: 0, body: {} }
  }
  // an answer that is not JSON keeps its status (a 502 page from a proxy is not a network error)
  return { status, body: parseJson(text) }
}

const parseJson = (text: string): Answer['body'] => {
  try {
    return JSON.parse(text) as Answer['body']
  } catch {
    return {}
  }
}

/** Retries a call like a widget does (network errors and 5xx, a short pause apart) until it is answered or the time is up. */
export async function callUntilAnswered(base: string, method: string, path: string, opts: Parameters<typeof fetchJson>[3], timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const res = await fetchJson(base, method, path, opts)
    if ((res.status > 0 && res.status < 500) || Date.now() > deadline) return res
    await new Promise((r) => setTimeout(r, 100))
  }
}

const STREAMED_POST = `const bytes = new Uint8Array(Number(process.env.SIZE)).fill(120)
const body = process.env.AS === 'form' ? new FormData() : new Blob(['{"name":"', bytes, '"}'])
if (process.env.AS === 'form') body.append('file', new Blob([bytes]), 'big.txt')
const res = await fetch(process.env.URL, { method: 'POST', headers: JSON.parse(process.env.HEADERS), body }).catch((err) => ({ status: String(err.cause?.code ?? err) }))
console.log(res.status)`

/**
 * What fetch in another process reports for a streamed POST of `size` bytes of "x" (a file part
 * of a form, or a JSON string field): the status, or the network error's code. Only a client
 * outside the server's event loop sees what a connection closed while it still sends does to it.
 */
export async function streamedPostStatus(url: string, headers: Record<string, string>, size: number, as: 'form' | 'json'): Promise<string> {
  const env = { ...process.env, SIZE: String(size), AS: as, URL: url, HEADERS: JSON.stringify(as === 'json' ? { ...headers, 'content-type': 'application/json' } : headers) }
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', STREAMED_POST], { env })
  return stdout.trim()
}
