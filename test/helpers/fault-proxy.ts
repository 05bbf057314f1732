/**
 * A loopback proxy in front of the chat server that misbehaves on demand, as networks do:
 * refuses WebSocket upgrades, duplicates, reorders or loses server frames (a lost frame takes
 * its connection with it, as on a real network), loses the response of a send after the server
 * has stored it, and stands in for a server that is down (connections refused).
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { WebSocket, WebSocketServer, type RawData } from 'ws'

export type Faults = {
  /** every connection is refused, HTTP and WebSocket alike */
  down: boolean
  /** WebSocket upgrades are refused; HTTP works */
  refuseSockets: boolean
  /** chance that a server frame is sent twice */
  duplicate: number
  /** chance that a server frame is held back and sent after the next one */
  reorder: number
  /** chance that a server frame is lost, with its connection */
  loseFrame: number
  /** how many of the next send responses (POST .../messages) are lost after the server answered */
  loseSendResponses: number
}

type Pair = { client: WebSocket; upstream: WebSocket }

export class FaultProxy {
  readonly faults: Faults = { down: false, refuseSockets: false, duplicate: 0, reorder: 0, loseFrame: 0, loseSendResponses: 0 }
  /** counters of what the proxy did, so a test can tell that its faults happened */
  readonly counts = { refusedSockets: 0, duplicated: 0, reordered: 0, lostFrames: 0, lostResponses: 0, sockets: 0 }
  private readonly pairs = new Set<Pair>()
  private readonly sockets = new Set<Socket>()
  private readonly wss = new WebSocketServer({ noServer: true })
  private readonly server: Server

  private constructor(public target: string, public random: () => number) {
    this.server = createServer((req, res) => {
      if (this.faults.down) return req.socket.destroy()
      const lose = req.method === 'POST' && /\/messages$/.test(req.url ?? '') && this.faults.loseSendResponses > 0
      if (lose) this.faults.loseSendResponses--
      const upstream = request(new URL(req.url ?? '/', this.target), { method: req.method, headers: req.headers }, (up) => {
        if (lose) {
          this.counts.lostResponses++
          // the server has answered (the message is stored); the client never hears it
          up.resume()
          up.on('end', () => req.socket.destroy())
          return
        }
        res.writeHead(up.statusCode ?? 502, up.headers)
        up.pipe(res)
      })
      upstream.on('error', () => req.socket.destroy())
      req.pipe(upstream)
    })
    this.server.on('connection', (socket) => {
      if (this.faults.down) return socket.destroy()
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
    })
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket as Socket, head))
  }

  /** A proxy on a free loopback port in front of `target` (an http origin); `random` drives every chance. */
  static async start(target: string, random: () => number = Math.random): Promise<FaultProxy> {
    const proxy = new FaultProxy(target, random)
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve))
    return proxy
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  /** Cuts every open connection at once, as a network outage or a crashed server would. */
  cutAll(): void {
    for (const { client, upstream } of this.pairs) {
      client.terminate()
      upstream.terminate()
    }
    for (const socket of this.sockets) socket.destroy()
  }

  /** No more faults from now on. */
  heal(): void {
    Object.assign(this.faults, { down: false, refuseSockets: false, duplicate: 0, reorder: 0, loseFrame: 0, loseSendResponses: 0 })
  }

  async close(): Promise<void> {
    this.cutAll()
    this.wss.close()
    await new Promise((resolve) => this.server.close(resolve))
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    if (this.faults.down || this.faults.refuseSockets) {
      this.counts.refusedSockets++
      return void socket.destroy()
    }
    const url = new URL(req.url ?? '/', this.target)
    url.protocol = 'ws:'
    const upstream = new WebSocket(url)
    upstream.on('error', () => socket.destroy())
    upstream.on('unexpected-response', (_r, res) => {
      socket.end(`HTTP/1.1 ${res.statusCode} Refused\r\nconnection: close\r\n\r\n`)
      upstream.terminate()
    })
    upstream.on('open', () => {
      this.wss.handleUpgrade(req, socket, head, (client) => this.relay({ client, upstream }))
    })
  }

  private relay(pair: Pair): void {
    const { client, upstream } = pair
    this.counts.sockets++
    this.pairs.add(pair)
    let held: RawData | undefined
    let heldTimer: NodeJS.Timeout | undefined
    const forward = (data: RawData) => client.readyState === WebSocket.OPEN && client.send(data, { binary: false })
    const release = () => {
      clearTimeout(heldTimer)
      if (held) forward(held)
      held = undefined
    }
    upstream.on('message', (data) => {
      if (this.random() < this.faults.loseFrame) {
        this.counts.lostFrames++
        client.terminate()
        return upstream.terminate()
      }
      if (!held && this.random() < this.faults.reorder) {
        this.counts.reordered++
        held = data
        // nothing came after it for a while: let it through late rather than never
        heldTimer = setTimeout(release, 200)
        return
      }
      forward(data)
      if (this.random() < this.faults.duplicate) {
        this.counts.duplicated++
        forward(data)
      }
      release()
    })
    client.on('message', (data, isBinary) => upstream.readyState === WebSocket.OPEN && upstream.send(data, { binary: isBinary }))
    const end = () => {
      this.pairs.delete(pair)
      clearTimeout(heldTimer)
    }
    upstream.on('close', (code) => {
      end()
      if (client.readyState === WebSocket.OPEN) client.close(code === 1005 || code === 1006 ? 1001 : code)
    })
    client.on('close', () => {
      end()
      upstream.close()
    })
    client.on('error', () => upstream.terminate())
    upstream.on('error', () => client.terminate())
  }
}
