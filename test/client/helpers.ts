import type { Test } from 'tap'
import { WebSocket } from 'ws'
import { createChatClient, type ChatClient, type ChatClientOptions, type ChatStorage, type Message } from '../../packages/client/src/index.js'
import { restartableServer, type ChatServer } from '../helpers/chat-server.js'
import { FaultProxy } from '../helpers/fault-proxy.js'
import { bearer, makeSite, makeStaff, replyRequest, type Staff, type TestSite } from '../helpers/fixtures.js'
import { waitFor } from '../helpers/wait.js'

/** Node 20 has no global WebSocket: the SDK takes the `ws` package's, as its README tells Node users to. */
export const NodeWebSocket = WebSocket as unknown as typeof globalThis.WebSocket

export function mapStorage(): ChatStorage & { map: Map<string, string> } {
  const map = new Map<string, string>()
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) }
}

export type Visitor = { client: ChatClient; seen: Message[]; storage: ReturnType<typeof mapStorage> }

export type World = {
  server: ChatServer
  proxy: FaultProxy
  site: TestSite
  agent: Staff
  visitor(options?: Partial<ChatClientOptions>): Visitor
  /** an agent reply through the admin API, straight to the server */
  reply(sessionId: string, text: string): Promise<Message>
  /** the session's history as the agent sees it */
  history(sessionId: string): Promise<Message[]>
}

/** A restartable server, a fault proxy in front of it, a site, an agent, and SDK clients that go through the proxy. */
export async function world(t: Test, random?: () => number): Promise<World> {
  const server = await restartableServer(t)
  const site = await makeSite(server.app)
  const agent = await makeStaff(server.app)
  const proxy = await FaultProxy.start(server.origin, random)
  t.teardown(() => proxy.close())
  return {
    server, proxy, site, agent,
    visitor(options = {}) {
      const storage = mapStorage()
      const client = createChatClient({ baseUrl: proxy.origin, apiKey: site.apiKey, storage, WebSocket: NodeWebSocket, ...options })
      const seen: Message[] = []
      client.on('message', (m) => void seen.push(m))
      t.teardown(() => client.close())
      return { client, seen, storage }
    },
    async reply(sessionId, text) {
      const res = await server.app.inject(replyRequest(agent, sessionId, text))
      if (res.statusCode !== 201) throw new Error(`reply failed: ${res.statusCode} ${res.body}`)
      return res.json().data.message
    },
    async history(sessionId) {
      const res = await server.app.inject({ method: 'GET', url: `/api/chat/sessions/${sessionId}`, headers: bearer(agent) })
      return res.json().data.messages
    },
  }
}

/** Waits until the visitor has been delivered `n` messages. */
export const delivered = (v: Visitor, n: number, timeoutMs = 15_000) => waitFor(`${n} messages delivered (have ${v.seen.length})`, () => v.seen.length >= n || undefined, timeoutMs)

export const seqs = (list: readonly Message[]) => list.map((m) => m.seq)
export const oneToN = (n: number) => Array.from({ length: n }, (_, i) => i + 1)
