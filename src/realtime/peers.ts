import { WebSocket } from 'ws'

/** Close codes a client acts on; all but unauthorized mean "reconnect with after=<last seq> and resume". */
export const CloseCode = {
  /** the server is shutting down or restarting */
  restarting: 1012,
  /** the server could not read what this socket needs right now */
  tryAgainLater: 1013,
  /** the socket's credentials expired or were revoked (JWT expiry, disabled user, rotated site key): get new ones first */
  unauthorized: 4001,
  /** the session was erased: forget it and do not reconnect (a new chat starts a new session) */
  erased: 4004,
  /** the client did not read its frames fast enough */
  slowConsumer: 4008,
} as const

const SLOW_CLOSE_GRACE_MS = 5_000

export type Peer = { socket: WebSocket; alive: boolean }

/**
 * True, and the socket closed with 4008, when more than `maxBufferedBytes` wait unread in it.
 * Pushes check it, and so does every frame a client sends, since each is answered (a pong, an
 * error): a client that sends and never reads would otherwise pile up answers without bound.
 */
export function cutOffWhenBacklogged(socket: WebSocket, maxBufferedBytes: number): boolean {
  if (socket.bufferedAmount <= maxBufferedBytes) return false
  if (socket.readyState === WebSocket.OPEN) {
    socket.close(CloseCode.slowConsumer, 'too slow: reconnect and resume')
    // the close frame waits behind the unread frames; a peer that never reads is not waited for long
    setTimeout(() => socket.terminate(), SLOW_CLOSE_GRACE_MS).unref()
  }
  return true
}

/**
 * Heartbeats are spread over ticks about this far apart, each pinging one slot of the peers:
 * pinging every socket in one tick put a burst of N pings (10,000 at 10k sockets) ahead of any
 * frame sent in that tick, which showed as swinging push tails (issue 14); 25 slots a 25 s
 * interval still put 400 pings (a few ms of socket writes) in one tick at 10k sockets, 250
 * slots put 40. Each peer is still pinged once per interval.
 */
const HEARTBEAT_TICK_MS = 100

/** Every socket of this process: heartbeats, the send-buffer bound, closing them all. */
type UpgradedSocket = { _socket?: { _httpMessage?: { detachSocket: (socket: unknown) => void } | null } }

/**
 * @fastify/websocket leaves the upgrade's request and reply reachable from every socket: the
 * TCP socket keeps the stand-in ServerResponse it was assigned (and through its listeners the
 * Fastify request and reply), and its error listener closes over both. That was ~20 KiB per
 * idle socket (bench/idle.ts). Detach the response and keep an error listener of our own.
 */
function releaseUpgrade(socket: WebSocket): void {
  const tcp = (socket as unknown as UpgradedSocket)._socket
  tcp?._httpMessage?.detachSocket(tcp)
  socket.removeAllListeners('error')
  socket.on('error', () => socket.terminate())
}

export class Peers {
  /** every peer is in one slot; slot k is pinged on ticks k, k + slots.length, … */
  private readonly slots: Set<Peer>[]
  private count = 0
  private nextSlot = 0
  private tick = 0
  private readonly heartbeat: NodeJS.Timeout

  constructor(private readonly opts: { heartbeatMs: number; maxBufferedBytes: number }) {
    this.slots = Array.from({ length: Math.max(1, Math.round(opts.heartbeatMs / HEARTBEAT_TICK_MS)) }, () => new Set())
    this.heartbeat = setInterval(() => this.beat(), opts.heartbeatMs / this.slots.length)
    this.heartbeat.unref()
  }

  get size(): number {
    return this.count
  }

  track(peer: Peer, onGone: () => void): void {
    const slot = this.slots[this.nextSlot] as Set<Peer>
    this.nextSlot = (this.nextSlot + 1) % this.slots.length
    slot.add(peer)
    this.count++
    releaseUpgrade(peer.socket)
    peer.socket.on('pong', () => {
      peer.alive = true
    })
    // 'close' comes once per socket; `on` spares the wrapper `once` makes for every socket
    peer.socket.on('close', () => {
      slot.delete(peer)
      this.count--
      onGone()
    })
  }

  /** A peer that has let more than the bound pile up unread is cut off; it resumes on reconnect. */
  send(peer: Peer, frame: string): boolean {
    const { socket } = peer
    if (socket.readyState !== WebSocket.OPEN || cutOffWhenBacklogged(socket, this.opts.maxBufferedBytes)) return false
    socket.send(frame)
    return true
  }

  closeAll(code: number, reason: string): void {
    clearInterval(this.heartbeat)
    for (const slot of this.slots) for (const peer of slot) peer.socket.close(code, reason)
  }

  /** One timer for all sockets, one slot per tick: a peer that has not answered its previous ping is dropped. */
  private beat(): void {
    const slot = this.slots[this.tick] as Set<Peer>
    this.tick = (this.tick + 1) % this.slots.length
    for (const peer of slot) {
      if (!peer.alive) {
        peer.socket.terminate()
        continue
      }
      peer.alive = false
      peer.socket.ping()
    }
  }
}
