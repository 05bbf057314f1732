// Baseline for the socket benchmarks: a bare `ws` server. Sockets connect to /ws/<id>;
// POST /send/<id> sends the body as a frame to that id's sockets, POST /broadcast to all.
import { createServer } from 'node:http'
import { WebSocketServer, type WebSocket } from 'ws'
import { memoryAfterGc } from './memory-after-gc.js'

const byId = new Map<string, Set<WebSocket>>()
const all = new Set<WebSocket>()
const server = createServer((req, res) => {
  let body = ''
  req.on('data', (c: Buffer) => { body += c.toString() })
  req.on('end', () => {
    if (req.url === '/__bench/memory') {
      void memoryAfterGc().then((memory) => res.end(JSON.stringify(memory)))
      return
    }
    const [, verb, id] = (req.url ?? '').split('/')
    if (verb === 'send') for (const ws of byId.get(id ?? '') ?? []) ws.send(body)
    if (verb === 'broadcast') for (const ws of all) ws.send(body)
    res.writeHead(201, { 'content-type': 'application/json' }).end('{"success":true}')
  })
})
const wss = new WebSocketServer({ server, perMessageDeflate: false })
wss.on('connection', (ws, req) => {
  const id = (req.url ?? '').split('/')[2] ?? ''
  const set = byId.get(id) ?? new Set<WebSocket>()
  byId.set(id, set)
  set.add(ws)
  all.add(ws)
  ws.on('close', () => { set.delete(ws); all.delete(ws) })
})
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  console.log(JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 }))
})
process.on('SIGTERM', () => process.exit(0))
