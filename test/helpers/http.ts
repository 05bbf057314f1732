import { request } from 'node:http'
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
        let parsed: Answer['body'] = {}
        try {
          parsed = JSON.parse(text) as Answer['body']
        } catch {
          // not JSON (HTML pages, empty 204s)
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, text })
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}
