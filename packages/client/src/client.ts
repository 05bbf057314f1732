import { requestJson, retryable, retryDelayMs, retryWait } from './http.js'
import { liveUpdates } from './live.js'
import { messageLog } from './message-log.js'
import { KEYS, randomId, storageFor } from './storage.js'
import { ChatApiError, type Attachment, type Availability, type ChatClient, type ChatClientOptions, type ChatEvents, type ConnectionState, type Message, type SendOptions, type Session, type StartDetails, type UploadOptions } from './types.js'
import { uploadFile } from './upload.js'
import type { PollData, RatingBody, RatingData, ReadBody, ResumeBody, ResumeData, SendMessageData, StartSessionData } from './wire.js'

const SEND_ATTEMPTS = 10
const START_ATTEMPTS = 5
const PAGE = 200
/** a seq held past a gap this long: the gap is fetched over HTTP instead of waited for */
const GAP_WAIT_MS = 1000
const TYPING_EVERY_MS = 2000


/** Creates a client for one site; nothing goes on the wire before `start()` (or a send). */
export function createChatClient(options: ChatClientOptions): ChatClient {
  const base = `${options.baseUrl.replace(/\/+$/, '')}/api/public/chat`
  const storage = storageFor(options.storage)
  // keyed by event name; `on` and `emit` keep each set's listeners to their event's argument type
  const listeners = new Map<keyof ChatEvents, Set<(value: never) => void>>()
  let session: Session | undefined
  let starting: Promise<Session> | undefined
  let sendQueue: Promise<unknown> = Promise.resolve()
  let connection: ConnectionState = 'offline'
  let agentReadSeq = 0
  let markedSeq = 0
  let typingAt = 0
  let gapTimer: ReturnType<typeof setTimeout> | undefined
  let closed = false
  /** the session live updates run for */
  let liveFor: string | undefined

  const emit = <E extends keyof ChatEvents>(event: E, value: ChatEvents[E]) => {
    for (const fn of listeners.get(event) ?? []) (fn as (v: ChatEvents[E]) => void)(value)
  }
  const log = messageLog((m) => emit('message', m))
  const { lastSeq } = log
  const sessionId = () => storage.getItem(KEYS.sessionId)
  const token = () => storage.getItem(KEYS.token)
  const headers = () => {
    const h: Record<string, string> = { 'X-API-Key': options.apiKey }
    const t = token()
    if (t) h['X-Session-Token'] = t
    return h
  }
  const call = <T>(method: string, path: string, body?: unknown) => requestJson<T>(base + path, headers(), method, body)
  const inSession = (path: string) => `/sessions/${sessionId()}${path}`

  /** Delivers what is next in seq order, once; fetches a gap that stays open. */
  function take(list: readonly Message[]): void {
    const gap = log.take(list, session?.id)
    // the public Session's lastSeq follows what is held (no event of its own: each message had one),
    // so the next `session` event (a close, say) carries it current, not the one from start()
    if (session && lastSeq() > session.lastSeq) patch({ lastSeq: lastSeq() })
    clearTimeout(gapTimer)
    if (gap) gapTimer = setTimeout(() => void catchUp().catch(() => {}), GAP_WAIT_MS)
  }

  /** Keeps `session` current between starts with what the client learns; the change's own event (or call) tells it. */
  const patch = (fields: Partial<Session>) => void (session &&= { ...session, ...fields })

  function readUpTo(seq: number | undefined): void {
    if (seq === undefined || seq <= agentReadSeq) return
    agentReadSeq = seq
    patch({ agentReadSeq: seq })
    emit('read', { reader: 'agent', seq })
  }

  function setSession(next: Session): void {
    if (session?.id !== next.id) {
      log.clear()
      agentReadSeq = markedSeq = 0
    }
    const changed = JSON.stringify(session) !== JSON.stringify(next)
    session = next
    if (changed) emit('session', next)
    readUpTo((next as { agentReadSeq?: number }).agentReadSeq)
    // the last messages may still be on their way (a status frame can overtake them); then nothing more comes
    if (next.status === 'closed') void catchUp().catch(() => {}).finally(stopLive)
  }

  function stopLive(): void {
    live.stop()
    liveFor = undefined
  }

  function setStatus(status: Session['status']): void {
    if (session && session.status !== status) setSession({ ...session, status })
  }

  function setConnection(state: ConnectionState): void {
    if (state === connection) return
    connection = state
    emit('connection', state)
  }

  /** The session cannot be opened any more: forget it, so that start() makes a new one. */
  function lose(err: ChatApiError): void {
    forget()
    emit('lost', err)
  }

  function forget(): void {
    stopLive()
    log.release()
    storage.removeItem(KEYS.sessionId)
    storage.removeItem(KEYS.token)
    session = undefined
    setConnection('offline')
  }

  /** Fetches everything after the last seq held, page by page. */
  async function catchUp(): Promise<void> {
    if (!session) return
    for (;;) {
      const before = lastSeq()
      let data: PollData
      try {
        data = await call<PollData>('GET', inSession(`/messages?after=${before}&limit=${PAGE}`))
      } catch (err) {
        if (err instanceof ChatApiError && (err.status === 401 || err.status === 404)) lose(err)
        throw err
      }
      take(data.messages)
      readUpTo((data as { agentReadSeq?: number }).agentReadSeq)
      setStatus(data.status)
      if (data.messages.length < PAGE || lastSeq() === before) return
    }
  }

  const live = liveUpdates(options.transport ?? 'auto', options.WebSocket ?? globalThis.WebSocket, {
    socketUrl() {
      const id = sessionId()
      const t = token()
      if (!id || !t || session?.status !== 'open') return undefined
      const url = new URL(`${base}/sessions/${id}/ws`)
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
      url.search = new URLSearchParams({ apiKey: options.apiKey, token: t, after: String(lastSeq()) }).toString()
      return url.toString()
    },
    poll: catchUp,
    frame(f) {
      if (f.type === 'message') take([f.message as Message])
      else if (f.type === 'session') setStatus((f.session as Session).status)
      else if (f.type === 'typing') emit('typing', { sender: f.sender as 'agent', ...(f.name ? { name: String(f.name) } : {}) })
      else if (f.type === 'read' && f.reader === 'agent') readUpTo(Number(f.seq))
    },
    connection: setConnection,
  })

  async function startOnce(details: StartDetails): Promise<Session> {
    let userSessionId = storage.getItem(KEYS.userSessionId)
    if (!userSessionId) storage.setItem(KEYS.userSessionId, (userSessionId = randomId('v_')))
    let data: StartSessionData | undefined
    for (let attempt = 0; !data; attempt++) {
      try {
        data = await call<StartSessionData>('POST', '/sessions', { ...details, userSessionId })
      } catch (err) {
        // an open (or closed) conversation we cannot prove is ours: a new visitor id starts a new one
        if (err instanceof ChatApiError && err.status === 401 && attempt < START_ATTEMPTS) {
          storage.removeItem(KEYS.token)
          storage.setItem(KEYS.userSessionId, (userSessionId = randomId('v_')))
          continue
        }
        if (!retryable(err) || attempt + 1 >= START_ATTEMPTS || closed) throw err
        await retryWait(retryDelayMs(err, attempt))
      }
    }
    return adopt(data)
  }

  /** Makes a started, resumed or reopened session the current one, stored and live. */
  function adopt(data: StartSessionData | ResumeData): Session {
    storage.setItem(KEYS.sessionId, data.sessionId)
    storage.setItem(KEYS.token, data.token)
    storage.setItem(KEYS.userSessionId, data.userSessionId)
    setSession(data.session)
    take(data.messages)
    if (!closed && liveFor !== data.sessionId && data.session.status === 'open') {
      stopLive()
      liveFor = data.sessionId
      live.start()
    }
    return data.session
  }

  const ensureSession = async () => session ?? client.start()

  async function deliver(text: string, o: SendOptions, clientMessageId: string): Promise<Message> {
    for (let attempt = 0; ; attempt++) {
      await ensureSession()
      try {
        const { message } = await call<SendMessageData>('POST', inSession('/messages'), { text, clientMessageId, ...(o.attachments ? { attachments: o.attachments } : {}) })
        take([message])
        if (message.seq > lastSeq() && !closed) await log.delivered(message.seq)
        return message
      } catch (err) {
        if (err instanceof ChatApiError && err.status === 409) setStatus('closed')
        if (!retryable(err) || attempt + 1 >= SEND_ATTEMPTS || closed) throw err
        await retryWait(retryDelayMs(err, attempt))
      }
    }
  }

  const client: ChatClient = {
    get messages() {
      return log.messages
    },
    get session() {
      return session
    },
    get hasStoredSession() {
      return !!(storage.getItem(KEYS.sessionId) && storage.getItem(KEYS.token))
    },
    get connection() {
      return connection
    },
    start(details = {}) {
      closed = false
      const run = () => startOnce(details)
      // one start at a time: a second call (new details) waits for the first, then updates
      const next = (starting ? starting.then(run, run) : run()).finally(() => {
        if (starting === next) starting = undefined
      })
      starting = next
      return next
    },
    async resume(link) {
      return adopt(await call<ResumeData>('POST', '/resume', { token: link } satisfies ResumeBody))
    },
    send(text, o = {}) {
      const clientMessageId = o.clientMessageId ?? randomId('c_')
      // one send at a time, so the visitor's messages are stored in the order they were sent
      const sent = sendQueue.then(() => deliver(text, o, clientMessageId))
      sendQueue = sent.catch(() => {})
      return sent
    },
    on(event, fn) {
      const set = listeners.get(event) ?? new Set()
      listeners.set(event, set)
      set.add(fn)
      return () => void set.delete(fn)
    },
    typing() {
      const now = Date.now()
      if (now - typingAt < TYPING_EVERY_MS) return
      if (live.send({ type: 'typing' })) typingAt = now
    },
    async markRead(seq = lastSeq()) {
      if (!session || seq <= markedSeq) return
      const { id } = session
      const before = markedSeq
      markedSeq = seq
      if (!live.send({ type: 'read', seq })) {
        try {
          await call('POST', inSession('/read'), { seq } satisfies ReadBody)
        } catch (err) {
          // not recorded: the next markRead(seq) tries again instead of taking it as done
          if (markedSeq === seq) markedSeq = before
          throw err
        }
      }
      // as the server records it: never back, and at most the last seq
      if (session?.id === id) patch({ visitorReadSeq: Math.max(session.visitorReadSeq, Math.min(seq, lastSeq())) })
    },
    async upload(file, name, o: UploadOptions = {}): Promise<Attachment> {
      await ensureSession()
      return uploadFile(base + inSession('/attachments'), headers(), file, name ?? (file as File).name ?? 'file', o)
    },
    async rate(score, comment) {
      const { rating } = await call<RatingData>('POST', inSession('/rating'), { score, ...(comment ? { comment } : {}) } satisfies RatingBody)
      patch({ rating })
      return rating
    },
    async transcript() {
      await call('POST', inSession('/transcript'))
    },
    availability: () => call<Availability>('GET', '/availability'),
    setActive: (active) => live.setActive(active),
    reset() {
      // a closed session's token stays as proof: the next start() then makes a new session for
      // the same visitor (userSessionId) instead of being refused as someone else's conversation
      const proof = session?.status === 'closed' ? token() : null
      forget()
      if (proof) storage.setItem(KEYS.token, proof)
      log.clear()
    },
    close() {
      closed = true
      stopLive()
      clearTimeout(gapTimer)
      log.release()
      setConnection('offline')
    },
  }
  return client
}
