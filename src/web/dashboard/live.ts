import { auth } from './api.js'
import type { Message, Note, Session, User } from './api.js'

export type LiveEvent =
  | { type: 'session.created'; session: Session }
  | { type: 'session.updated'; session: Session }
  | { type: 'message.created'; message: Message }
  | { type: 'typing'; sessionId: string; sender: 'visitor' }
  | { type: 'read'; sessionId: string; reader: 'visitor'; seq: number }
  | { type: 'session.erased'; session: { id: string; siteId: string } }
  | { type: 'note.created'; note: Note }
  | { type: 'user.updated'; user: User }
  | { type: 'resync' }
  | { type: 'pong' }
/** what the socket tells the inbox; `resync` and `pong` are handled here */
export type ChatEvent = Exclude<LiveEvent, { type: 'resync' } | { type: 'pong' }>

const FALLBACK_REFETCH_MS = 5000
const MAX_BACKOFF_MS = 30_000
const CREDENTIALS_REVOKED = 4001
const STABLE_SOCKET_MS = 60_000

let liveSocket: WebSocket | undefined
/** Sends a frame when the socket is up; typing is best effort, so nothing is queued. */
export function sendFrame(frame: Record<string, unknown>): void {
  if (liveSocket?.readyState === WebSocket.OPEN) liveSocket.send(JSON.stringify(frame))
}

/**
 * The dashboard socket with back-off. While it is down the caller is told so (banner) and
 * asked to refetch over REST every few seconds, so nothing is missed either way.
 */
export function startLive(on: { event: (e: ChatEvent) => void; state: (up: boolean) => void; refetch: () => Promise<void>; expired: () => void }): () => void {
  let socket: WebSocket | undefined
  let up = false
  let failures = 0
  let openedAt = Number.POSITIVE_INFINITY
  let stopped = false
  let retry: ReturnType<typeof setTimeout> | undefined
  let fallback: ReturnType<typeof setInterval> | undefined

  const down = () => {
    up = false
    on.state(false)
    fallback ??= setInterval(catchUp, FALLBACK_REFETCH_MS)
  }

  // A catch-up that fails is tried again every few seconds until one succeeds: the socket alone
  // never brings what it missed while away, such as an erasure. (Requests can fail just after the
  // socket came back: the network back for one before the other, a proxy's 502 during a deploy.)
  async function catchUp(): Promise<void> {
    try {
      await on.refetch()
      if (up) {
        clearInterval(fallback)
        fallback = undefined
      }
    } catch {
      // not once stopped: a catch-up in flight at sign-out (or whose 401 signed out) fails then
      if (!stopped) fallback ??= setInterval(catchUp, FALLBACK_REFETCH_MS)
    }
  }

  function open(): void {
    const token = auth.token
    if (stopped || !token) return
    const url = new URL('/api/chat/ws', location.href)
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
    const ws = new WebSocket(url)
    socket = ws
    let subscribed = false
    liveSocket = ws
    ws.onopen = () => {
      // the token travels in the first frame, never in the URL (proxies and servers log URLs);
      // frames are answered in order, so the pong says the socket is authenticated and subscribed
      ws.send(JSON.stringify({ type: 'auth', token }))
      ws.send(JSON.stringify({ type: 'ping' }))
    }
    ws.onmessage = (e) => {
      const event = JSON.parse(String(e.data)) as LiveEvent
      if (event.type === 'pong') {
        if (subscribed) return
        subscribed = true
        openedAt = Date.now()
        up = true
        on.state(true)
        // whatever happened while we were away
        void catchUp()
      } else if (event.type === 'resync') {
        // the server may have missed events: the REST API rebuilds the list exactly
        void catchUp()
      } else {
        on.event(event)
      }
    }
    ws.onclose = (e) => closed(ws, e.code)
  }

  function closed(ws: WebSocket, code: number): void {
    ws.onmessage = ws.onclose = null
    socket = undefined
    if (liveSocket === ws) liveSocket = undefined
    if (stopped) return
    // 4001: the token stopped working (expired, user disabled); only a new login helps
    if (code === CREDENTIALS_REVOKED) return on.expired()
    down()
    // a socket that opens and drops again at once must not reconnect in a tight loop
    if (Date.now() - openedAt > STABLE_SOCKET_MS) failures = 0
    openedAt = Number.POSITIVE_INFINITY
    const delay = code === 1012 ? 500 : Math.min(MAX_BACKOFF_MS, 1000 * 2 ** failures++) * (0.5 + Math.random() / 2)
    retry = setTimeout(open, delay)
  }

  // the browser knows at once when the network is gone: a socket kept over it would look up (no
  // banner, no refetch) until the connection times out, and may never speak again on a changed network
  const networkLost = () => {
    if (!socket) return
    const ws = socket
    closed(ws, 1006)
    ws.close()
  }

  const wake = () => {
    if (document.visibilityState === 'visible' && !socket && !stopped) {
      clearTimeout(retry)
      failures = 0
      open()
    }
  }
  document.addEventListener('visibilitychange', wake)
  window.addEventListener('offline', networkLost)
  window.addEventListener('online', wake)
  open()
  return () => {
    stopped = true
    clearTimeout(retry)
    clearInterval(fallback)
    document.removeEventListener('visibilitychange', wake)
    window.removeEventListener('offline', networkLost)
    window.removeEventListener('online', wake)
    socket?.close()
  }
}
