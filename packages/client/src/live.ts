import { backoffMs } from './http.js'
import type { ConnectionState } from './types.js'

export const POLL_MS = 2000
const PING_MS = 25_000
/** no frame (not even a pong) for this long: the connection is dead though nobody closed it */
const SILENT_MS = 2 * PING_MS + 10_000
/** a socket that lived this long counts as working: its next reconnect starts the back-off anew */
const STABLE_MS = 10_000
/** an upgrade that neither opens nor fails by then (a black-holing proxy) is given up */
const CONNECT_TIMEOUT_MS = 10_000
const RESTARTING = 1012
const CREDENTIALS_REVOKED = 4001
const SESSION_ERASED = 4004

export type LiveHooks = {
  /** the socket URL (resuming after the last seq held), or undefined while there is no session */
  socketUrl(): string | undefined
  /** one poll: fetches what is newer than the last seq held; throws when the server was not reached */
  poll(): Promise<void>
  frame(frame: Record<string, unknown>): void
  connection(state: ConnectionState): void
}

/**
 * How new messages reach the client: the socket when it can be had; 2-second polling while it
 * cannot (transport 'auto', and only while active), the socket retried meanwhile with back-off.
 */
export function liveUpdates(mode: 'auto' | 'socket' | 'polling', WS: typeof WebSocket | undefined, hooks: LiveHooks) {
  const useSocket = mode !== 'polling' && !!WS
  const usePolling = mode !== 'socket' || !WS
  let running = false
  let active = true
  let socketAllowed = true
  let ws: WebSocket | undefined
  let open = false
  let failures = 0
  let openedAt = 0
  let lastFrameAt = 0
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined
  let pollTimer: ReturnType<typeof setTimeout> | undefined
  let pollDueAt = 0
  let pingTimer: ReturnType<typeof setInterval> | undefined
  let polling = false

  function connect(): void {
    clearTimeout(reconnectTimer)
    const url = hooks.socketUrl()
    if (!running || !useSocket || !socketAllowed || ws || !url || !WS) return
    const socket = new WS(url)
    ws = socket
    socket.onerror = () => {}
    const giveUp = setTimeout(() => socket.close(), CONNECT_TIMEOUT_MS)
    socket.onopen = () => {
      clearTimeout(giveUp)
      open = true
      cancelPoll()
      openedAt = lastFrameAt = Date.now()
      hooks.connection('socket')
      pingTimer = setInterval(() => {
        if (Date.now() - lastFrameAt > SILENT_MS) return socket.close()
        socket.send('{"type":"ping"}')
      }, PING_MS)
    }
    socket.onmessage = (e) => {
      lastFrameAt = Date.now()
      let frame: unknown
      try {
        frame = JSON.parse(String(e.data))
      } catch {
        return
      }
      if (frame && typeof frame === 'object') hooks.frame(frame as Record<string, unknown>)
    }
    socket.onclose = (e) => {
      clearTimeout(giveUp)
      closed(socket, e.code)
    }
  }

  function closed(socket: WebSocket, code: number): void {
    clearInterval(pingTimer)
    socket.onopen = socket.onmessage = socket.onclose = null
    const wasOpen = open
    ws = undefined
    open = false
    if (!running) return
    if (wasOpen && Date.now() - openedAt > STABLE_MS) failures = 0
    // the site key was rotated, or the session erased: this socket cannot come back, and a poll
    // at once tells the caller (its 401 or 404 makes the client forget the session)
    if (code === CREDENTIALS_REVOKED || code === SESSION_ERASED) socketAllowed = false
    else reconnectTimer = setTimeout(connect, code === RESTARTING ? 250 + Math.random() * 750 : backoffMs(failures++))
    if (!usePolling || !active) hooks.connection('offline')
    // otherwise the first poll comes a poll interval after the drop, and only if the socket is still
    // down: a restart (1012) reconnects sooner, so thousands of widgets do not poll at once. A poll
    // already due stays due: each refused retry pushing it back delayed it to 3.75–6 s.
    schedulePoll(socketAllowed ? POLL_MS : 0, true)
  }

  // the browser knows at once when the network goes or comes back; a socket kept over a network that is
  // gone says nothing until the ping times out (a minute), and one kept over a changed network may never speak again
  function networkLost(): void {
    if (!running) return
    if (ws) {
      const socket = ws
      closed(socket, 1006)
      socket.close()
    }
    hooks.connection('offline')
  }

  function networkBack(): void {
    if (!running || !active) return
    failures = 0
    connect()
    schedulePoll(0)
  }
  // (Node has no global addEventListener: the optional calls do nothing there)
  const watchNetwork = (on: boolean) => {
    const method = on ? 'addEventListener' : 'removeEventListener'
    globalThis[method]?.('offline', networkLost)
    globalThis[method]?.('online', networkBack)
  }

  const pollWanted = () => running && usePolling && active && !open && (!useSocket || !socketAllowed || failures > 0 || !ws)

  function cancelPoll(): void {
    clearTimeout(pollTimer)
    pollTimer = undefined
  }

  function schedulePoll(ms: number, unlessDueSooner = false): void {
    if (unlessDueSooner && pollTimer !== undefined && pollDueAt <= Date.now() + ms) return
    cancelPoll()
    pollDueAt = Date.now() + ms
    if (pollWanted()) pollTimer = setTimeout(pollOnce, ms)
  }

  async function pollOnce(): Promise<void> {
    pollTimer = undefined
    // the socket may have come back since this poll was scheduled
    if (polling || !pollWanted()) return
    polling = true
    try {
      await hooks.poll()
      if (!open && running) hooks.connection('polling')
    } catch {
      if (!open && running) hooks.connection('offline')
    } finally {
      polling = false
    }
    schedulePoll(POLL_MS)
  }

  return {
    get socketOpen() {
      return open
    },
    start(): void {
      if (!running) watchNetwork(true)
      running = true
      // a socket refused for good (4001, 4004) was refused to the session before: this one tries anew
      socketAllowed = true
      connect()
      schedulePoll(useSocket ? POLL_MS : 0)
    },
    stop(): void {
      if (running) watchNetwork(false)
      running = false
      clearTimeout(reconnectTimer)
      cancelPoll()
      clearInterval(pingTimer)
      ws?.close()
      ws = undefined
      open = false
    },
    setActive(value: boolean): void {
      active = value
      if (!value) cancelPoll()
      else if (running) {
        // coming back (a tab shown again, a panel opened): reconnect at once rather than after the back-off
        if (!ws) {
          failures = 0
          connect()
        }
        schedulePoll(0)
      }
    },
    /** sends a frame on the open socket; false when there is none */
    send(frame: object): boolean {
      if (!open || !ws) return false
      ws.send(JSON.stringify(frame))
      return true
    },
  }
}

export type LiveUpdates = ReturnType<typeof liveUpdates>
