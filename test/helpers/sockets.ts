import type { FastifyInstance } from 'fastify'
import WebSocket, { type ClientOptions } from 'ws'
import type { Staff, TestSession, WireMessage } from './fixtures.js'
import { serve } from './http.js'
import { waitFor } from './wait.js'

export type Frame = {
  type: string
  message?: WireMessage
  session?: Record<string, unknown>
  error?: { code: string; message: string }
  clientMessageId?: string
  /** typing and read frames */
  sessionId?: string
  sender?: string
  name?: string | null
  reader?: string
  seq?: number
}
export type Closed = { code: number; reason: string }

const WAIT_MS = 10_000

/** Listens on a free loopback port (closed with the app) and returns the ws:// base URL. */
export const listen = async (app: FastifyInstance): Promise<string> => (await serve(app)).replace(/^http/, 'ws')

export const widgetUrl = (base: string, s: TestSession, query: Record<string, string | number> = {}) =>
  `${base}/api/public/chat/sessions/${s.id}/ws?${new URLSearchParams({ apiKey: s.site.apiKey, token: s.token, ...Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])) })}`

/** The URL form old clients use (the token in the query); the dashboard authenticates with its first frame (openDashboard). */
export const dashboardUrl = (base: string, staff: Staff) => `${base}/api/chat/ws?token=${encodeURIComponent(staff.token)}`

/** A real ws client that records every frame from the moment it is created. */
export class TestSocket {
  readonly frames: Frame[] = []
  readonly closed: Promise<Closed>
  private readonly changed = new Set<() => void>()

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame)
      for (const fn of this.changed) fn()
    })
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })))
  }

  static open(url: string, opts: ClientOptions = {}): Promise<TestSocket> {
    const socket = new TestSocket(new WebSocket(url, opts))
    return new Promise((resolve, reject) => {
      socket.ws.once('open', () => resolve(socket))
      socket.ws.once('error', reject)
    })
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
  }

  /** Frames of one type, in arrival order. */
  ofType(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type)
  }

  seqs(): number[] {
    return this.ofType('message').map((f) => f.message?.seq ?? -1)
  }

  /** Resolves once `done()` holds; rejects with `what` after a bounded wait. */
  waitUntil(what: string, done: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
    if (done()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return
        clearTimeout(timer)
        this.changed.delete(check)
        resolve()
      }
      const timer = setTimeout(() => {
        this.changed.delete(check)
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.frames.map((f) => f.type === 'message' ? f.message?.seq : f.type))}`))
      }, timeoutMs)
      this.changed.add(check)
    })
  }

  waitForSeq(seq: number, timeoutMs = WAIT_MS): Promise<void> {
    return this.waitUntil(`message ${seq}`, () => this.seqs().includes(seq), timeoutMs)
  }

  close(): void {
    this.ws.terminate()
  }
}

/** The HTTP answer to an upgrade the server refused (no socket is opened). */
export function refusedUpgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: { success: boolean; error?: { code: string } } }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers })
    ws.once('open', () => {
      ws.terminate()
      reject(new Error('the upgrade was accepted'))
    })
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c.toString()))
      res.on('end', () => {
        ws.terminate()
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(body) as { success: boolean; error?: { code: string } } })
      })
    })
    ws.once('error', () => {})
  })
}

/** A socket that is dropped when the test ends. */
export async function openSocket(t: { teardown: (fn: () => unknown) => void }, url: string, opts: ClientOptions = {}): Promise<TestSocket> {
  const socket = await TestSocket.open(url, opts)
  t.teardown(() => socket.close())
  return socket
}

/**
 * A dashboard socket as the dashboard opens it: no token in the URL, `{type:'auth'}` as the
 * first frame, then a ping whose pong says it is subscribed. The pong is not kept in `frames`.
 */
export async function openDashboard(t: { teardown: (fn: () => unknown) => void }, base: string, staff: Pick<Staff, 'token'>): Promise<TestSocket> {
  const socket = await openSocket(t, `${base}/api/chat/ws`)
  socket.send({ type: 'auth', token: staff.token })
  socket.send({ type: 'ping' })
  await socket.waitUntil('the pong after auth', () => socket.ofType('pong').length > 0)
  socket.frames.splice(socket.frames.findIndex((f) => f.type === 'pong'), 1)
  return socket
}

/**
 * A widget socket that behaves as a client should: on any close but 4001 it opens again with
 * `after=<last seq>` (a short pause apart while refused), so it sees every message once.
 */
export class ResumingSocket {
  readonly seqs: number[] = []
  readonly closeCodes: number[] = []
  private socket: TestSocket | undefined
  private stopped = false

  constructor(private readonly urlAfter: (after: number) => string) {}

  static async open(t: { teardown: (fn: () => unknown) => void }, urlAfter: (after: number) => string): Promise<ResumingSocket> {
    const resuming = new ResumingSocket(urlAfter)
    t.teardown(() => resuming.stop())
    await resuming.connect()
    return resuming
  }

  get lastSeq(): number {
    return this.seqs.at(-1) ?? 0
  }

  async waitForSeq(seq: number, timeoutMs = WAIT_MS): Promise<void> {
    await waitFor(`message ${seq}`, () => this.seqs.includes(seq), timeoutMs).catch((err: Error) => {
      throw new Error(`${err.message}; got ${this.seqs.join(',')}`)
    })
  }

  stop(): void {
    this.stopped = true
    this.socket?.close()
  }

  private async connect(): Promise<void> {
    for (;;) {
      if (this.stopped) return
      try {
        const socket = await TestSocket.open(this.urlAfter(this.lastSeq))
        this.socket = socket
        const take = (frame: Frame) => {
          if (frame.type === 'message' && frame.message) this.seqs.push(frame.message.seq)
        }
        // frames that arrived with the upgrade's answer, before this await resumed (TestSocket kept them)
        for (const frame of socket.frames) take(frame)
        socket.ws.on('message', (data) => take(JSON.parse(data.toString()) as Frame))
        void socket.closed.then(({ code }) => {
          this.closeCodes.push(code)
          if (code !== 4001) void this.connect()
        })
        return
      } catch {
        await new Promise((r) => setTimeout(r, 200))
      }
    }
  }
}

/**
 * Stops reading on the app's only socket (the client's side) and sends it unknown frames, each
 * answered with an error frame, until the server cuts it off or `maxFrames` went out. Reading
 * resumes afterwards; the server side is terminated if it never cut off.
 */
export async function floodWithoutReading(app: FastifyInstance, socket: TestSocket, maxFrames = 200_000): Promise<{ cut: boolean; sent: number; mostBuffered: number }> {
  const tcp = (socket.ws as unknown as { _socket: { pause: () => void; resume: () => void } })._socket
  tcp.pause()
  const [server] = app.websocketServer.clients
  if (!server) throw new Error('no server side socket')
  const frame = JSON.stringify({ type: 'unknown' })
  let sent = 0
  let mostBuffered = 0
  while (server.readyState === server.OPEN && sent < maxFrames) {
    for (let i = 0; i < 1000; i++) socket.ws.send(frame)
    sent += 1000
    await new Promise((resolve) => setImmediate(resolve))
    mostBuffered = Math.max(mostBuffered, server.bufferedAmount)
  }
  tcp.resume()
  const cut = server.readyState !== server.OPEN
  if (!cut) server.terminate()
  return { cut, sent, mostBuffered }
}
