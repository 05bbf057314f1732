import { KEYS, load, randomId, save } from './storage.js'
import type { Message, WidgetOptions } from './types.js'

const POLL_MS = 2000
const PING_MS = 25_000
const MAX_BACKOFF_MS = 30_000
const SEND_ATTEMPTS = 6
const CREDENTIALS_REVOKED = 4001
const STABLE_SOCKET_MS = 60_000

type Status = 'open' | 'closed'
export type Events = {
  messages: (list: Message[]) => void
  status: (status: Status) => void
  /** whether live delivery (socket, or polling while open) is working */
  online: (online: boolean) => void
  sendFailed: (clientMessageId: string) => void
  reset: () => void
}

class NetworkError extends Error {}
type Reply = { status: number; data: Record<string, unknown> }

const backoff = (attempt: number) => Math.min(MAX_BACKOFF_MS, 1000 * 2 ** attempt) * (0.5 + Math.random() / 2)

/**
 * One visitor's session on the wire: the socket with `after=<last seq>` resume and back-off,
 * 2-second `since` polling only while the chat is open and the socket is not, and sends that
 * carry a clientMessageId so retries never store a message twice.
 */
export function connect(o: WidgetOptions, on: Events) {
  let sessionId = load(KEYS.sessionId)
  let token = load(KEYS.token)
  let status: Status = 'open'
  const held = new Map<number, string>()
  let lastSeq = 0
  let newestAt: string | undefined
  let chatOpen = false
  let socket: WebSocket | undefined
  let socketOpen = false
  let socketFailures = 0
  let openedAt = 0
  const socketOpenedLongEnough = () => openedAt > 0 && Date.now() - openedAt > STABLE_SOCKET_MS
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined
  let pingTimer: ReturnType<typeof setInterval> | undefined
  let pollTimer: ReturnType<typeof setInterval> | undefined
  let creating: Promise<void> | undefined

  async function call(path: string, init: { method?: string; body?: unknown } = {}): Promise<Reply> {
    const headers: Record<string, string> = { 'X-API-Key': o.apiKey }
    if (token) headers['X-Session-Token'] = token
    if (init.body) headers['Content-Type'] = 'application/json'
    let res: Response
    try {
      res = await fetch(`${o.origin}/api/public/chat${path}`, { method: init.method ?? 'GET', headers, body: init.body ? JSON.stringify(init.body) : undefined })
    } catch {
      throw new NetworkError()
    }
    const json = (await res.json().catch(() => ({}))) as { data?: Record<string, unknown> }
    return { status: res.status, data: json.data ?? {} }
  }

  /**
   * A send's reply can overtake the socket frame of an earlier message, so the messages held
   * may have a gap; `lastSeq` (what resume and polling ask after) only counts the gap-free start.
   */
  function take(list: Message[]): void {
    const fresh = list.filter((m) => !held.has(m.seq))
    if (!fresh.length) return
    for (const m of fresh) held.set(m.seq, m.createdAt)
    for (let at = held.get(lastSeq + 1); at !== undefined; at = held.get(lastSeq + 1)) {
      lastSeq++
      newestAt = at
    }
    on.messages(fresh.sort((a, b) => a.seq - b.seq))
  }

  function setStatus(next: Status): void {
    if (status === next) return
    status = next
    on.status(next)
    if (next === 'closed') stopLive()
  }

  function forget(): void {
    stopLive()
    sessionId = token = null
    save(KEYS.sessionId, null)
    save(KEYS.token, null)
    held.clear()
    lastSeq = 0
    newestAt = undefined
    status = 'open'
    on.reset()
  }

  function stopLive(): void {
    clearTimeout(reconnectTimer)
    clearInterval(pingTimer)
    if (socket) {
      socket.onclose = null
      socket.close()
    }
    socket = undefined
    socketOpen = false
    updatePolling()
  }

  function openSocket(): void {
    if (!sessionId || !token || socket || status === 'closed') return
    clearTimeout(reconnectTimer)
    const url = new URL(`/api/public/chat/sessions/${sessionId}/ws`, o.origin)
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
    url.search = new URLSearchParams({ apiKey: o.apiKey, token, after: String(lastSeq) }).toString()
    const ws = new WebSocket(url)
    socket = ws
    ws.onopen = () => {
      socketOpen = true
      openedAt = Date.now()
      on.online(true)
      updatePolling()
      pingTimer = setInterval(() => ws.send('{"type":"ping"}'), PING_MS)
    }
    ws.onmessage = (e) => {
      let frame: { type?: string; message?: Message; session?: { status: Status } }
      try {
        frame = JSON.parse(String(e.data))
      } catch {
        return
      }
      if (frame.type === 'message' && frame.message) take([frame.message])
      else if (frame.type === 'session' && frame.session) setStatus(frame.session.status)
    }
    ws.onclose = (e) => {
      clearInterval(pingTimer)
      socket = undefined
      socketOpen = false
      updatePolling()
      // a socket that opens and drops again at once must not reconnect in a tight loop
      if (socketOpenedLongEnough()) socketFailures = 0
      openedAt = 0
      // 4001: the site key was rotated; the page needs the new key, retrying cannot help
      if (e.code === CREDENTIALS_REVOKED) return
      // 1012: the server restarts; come back at once (with jitter, so instances are not stampeded)
      const delay = e.code === 1012 ? 250 + Math.random() * 750 : backoff(socketFailures++)
      reconnectTimer = setTimeout(openSocket, delay)
    }
  }

  async function poll(): Promise<void> {
    if (!sessionId) return
    try {
      const r = await call(`/sessions/${sessionId}/messages${newestAt ? `?since=${encodeURIComponent(newestAt)}` : ''}`)
      if (r.status === 401 || r.status === 404) return forget()
      if (r.status !== 200) return on.online(false)
      on.online(true)
      take(r.data.messages as Message[])
      setStatus(r.data.status as Status)
    } catch {
      on.online(false)
    }
  }

  function updatePolling(): void {
    const wanted = chatOpen && !!sessionId && !socketOpen && status === 'open'
    if (wanted && !pollTimer) pollTimer = setInterval(() => void poll(), POLL_MS)
    if (!wanted && pollTimer) {
      clearInterval(pollTimer)
      pollTimer = undefined
    }
  }

  async function ensureSession(): Promise<void> {
    if (sessionId && token) return
    creating ??= (async () => {
      let userSessionId = load(KEYS.userSessionId)
      if (!userSessionId) save(KEYS.userSessionId, (userSessionId = randomId('v_')))
      const start = () => call('/sessions', { method: 'POST', body: { userSessionId, pageUrl: location.href.slice(0, 2048), locale: o.locale } })
      // the token (sent by call) proves the conversation is ours; an open one we hold no token
      // for (stored by an older widget, or forgotten) cannot be resumed: start a new one
      let r = await start()
      if (r.status === 401 && !token) {
        save(KEYS.userSessionId, (userSessionId = randomId('v_')))
        r = await start()
      }
      if (r.status !== 200 && r.status !== 201) throw new NetworkError()
      sessionId = String(r.data.sessionId)
      token = String(r.data.token)
      save(KEYS.sessionId, sessionId)
      save(KEYS.token, token)
      take(r.data.messages as Message[])
      openSocket()
      updatePolling()
    })().finally(() => (creating = undefined))
    return creating
  }

  async function deliver(text: string, clientMessageId: string, attempt: number): Promise<void> {
    try {
      await ensureSession()
      const r = await call(`/sessions/${sessionId}/messages`, { method: 'POST', body: { text, clientMessageId } })
      if (r.status === 200 || r.status === 201) return take([r.data.message as Message])
      if (r.status === 409) {
        setStatus('closed')
        return on.sendFailed(clientMessageId)
      }
      if (r.status === 401 || r.status === 404) {
        forget()
        if (attempt < SEND_ATTEMPTS) return deliver(text, clientMessageId, attempt + 1)
      }
      if (r.status !== 429 && r.status < 500) return on.sendFailed(clientMessageId)
    } catch {
      // network error: the same clientMessageId makes the retry safe
    }
    if (attempt + 1 >= SEND_ATTEMPTS) return on.sendFailed(clientMessageId)
    setTimeout(() => void deliver(text, clientMessageId, attempt + 1), backoff(attempt))
  }

  openSocket()

  return {
    get lastSeq() {
      return lastSeq
    },
    get hasSession() {
      return !!sessionId
    },
    send(text: string, clientMessageId: string): void {
      void deliver(text, clientMessageId, 0)
    },
    setOpen(open: boolean): void {
      chatOpen = open
      updatePolling()
      if (open) this.resync()
    },
    /** after a tab comes back: reconnect at once, or catch up by one poll */
    resync(): void {
      // a session stored by an older widget has no token: resuming it needs one, so a new one starts
      if (!token && load(KEYS.userSessionId) && chatOpen) return void ensureSession().catch(() => on.online(false))
      if (!sessionId) return
      if (!socket) {
        socketFailures = 0
        openSocket()
      }
      if (chatOpen && !socketOpen) void poll()
    },
    async saveContact(contact: { name?: string; phone?: string; email?: string }): Promise<boolean> {
      await ensureSession()
      const r = await call('/sessions', { method: 'POST', body: { userSessionId: load(KEYS.userSessionId), ...contact } })
      return r.status === 200 || r.status === 201
    },
    /** whether someone of the site's team is online now; undefined when the server cannot tell */
    async anyoneOnline(): Promise<boolean | undefined> {
      const r = await call('/availability').catch(() => undefined)
      return r?.status === 200 ? r.data.online === true : undefined
    },
    startOver(): void {
      forget()
    },
  }
}

export type Connection = ReturnType<typeof connect>
