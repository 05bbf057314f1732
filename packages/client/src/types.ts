import type { Attachment, AvailabilityData, Message, PublicSession, Rating } from './wire.js'

export type { Attachment, Message, Rating } from './wire.js'

/** The visitor's session as the server shows it to them. */
export type Session = PublicSession

/** Whether anyone of the site's team is online now. */
export type Availability = AvailabilityData

/** What `start()` may tell the server about the visitor; every field is optional. */
export type StartDetails = { name?: string; phone?: string; email?: string; firstMessage?: string; pageUrl?: string; locale?: string }

/** Where the client keeps the session id, the visitor id and the session token. */
export type ChatStorage = { getItem(key: string): string | null; setItem(key: string, value: string): void; removeItem(key: string): void }

/** How the client learns of new messages right now. */
export type ConnectionState = 'socket' | 'polling' | 'offline'

export type ChatClientOptions = {
  /** the chat server's origin, e.g. `https://chat.example.com` */
  baseUrl: string
  /** the site's public key (X-API-Key) */
  apiKey: string
  /**
   * `'local'` (the default where `localStorage` exists) keeps the widget's keys `chatSessionId`,
   * `chatUserSessionId` and `chatSessionToken`, so a custom UI and the widget share a visitor;
   * `'memory'` forgets on reload; or any object with getItem/setItem/removeItem.
   */
  storage?: 'local' | 'memory' | ChatStorage
  /** `'auto'` (default): the socket, 2-second polling while it is unreachable, and back */
  transport?: 'auto' | 'socket' | 'polling'
  /** for runtimes without a global WebSocket (Node 20): e.g. the `ws` package's. Without one the client polls. */
  WebSocket?: typeof WebSocket
}

/** Events and the argument their listeners get. */
export type ChatEvents = {
  /** every message the client learns of, each exactly once, in `seq` order (history, others' and its own) */
  message: Message
  /** the session, whenever it starts, resumes or changes status */
  session: Session
  /** someone else is typing (sent about every 2 s while they type; hide it a few seconds after the last one) */
  typing: { sender: 'agent' | 'visitor'; name?: string }
  /** `reader` has seen every message up to `seq` */
  read: { reader: 'agent' | 'visitor'; seq: number }
  connection: ConnectionState
  /** the stored session can no longer be opened (erased, or its token no longer valid): it is forgotten, `start()` makes a new one */
  lost: ChatApiError
}

export type UploadOptions = {
  /** called as the bytes go out */
  onProgress?: (progress: { loaded: number; total: number }) => void
  /** aborting it cancels the upload (the promise rejects with an AbortError) */
  signal?: AbortSignal
}

export type SendOptions = {
  /** ids from `upload()`, at most 5; `text` may then be empty */
  attachments?: string[]
  /** set it to match the stored message to a bubble you show before it is stored; a random one otherwise */
  clientMessageId?: string
}

/** A visitor's chat with a site. */
export interface ChatClient {
  /** Resumes the stored session (proving it with the stored token), else creates one. Calling it again updates the details. */
  start(details?: StartDetails): Promise<Session>
  /**
   * Opens the conversation of an email's link (`<page>#chat_resume=<token>`, sent to a visitor
   * who was away when an agent replied), in any browser: the token works once, and the session
   * it opens replaces the stored one. Rejects with 401 when the link was used or has expired.
   */
  resume(link: string): Promise<Session>
  /** Stores a message, retrying with back-off on network errors, 5xx and 429; resolves once it is in `messages`. Sends keep their order. */
  send(text: string, options?: SendOptions): Promise<Message>
  /** What the client holds of the current session, in `seq` order. */
  readonly messages: readonly Message[]
  /** The current session, once started. */
  readonly session: Session | undefined
  /** Whether storage holds a session that `start()` would resume. */
  readonly hasStoredSession: boolean
  /** How new messages arrive right now. */
  readonly connection: ConnectionState
  on<E extends keyof ChatEvents>(event: E, listener: (value: ChatEvents[E]) => void): () => void
  /** Tells the agent the visitor is typing (at most one frame per 2 s reaches the wire); a no-op while polling. */
  typing(): void
  /** Records that the visitor has seen every message up to `seq` (default: the newest held). */
  markRead(seq?: number): Promise<void>
  upload(file: Blob, name?: string, options?: UploadOptions): Promise<Attachment>
  /** Rates the closed session, 1 to 5. */
  rate(score: number, comment?: string): Promise<Rating>
  /** Emails the conversation to the session's email. */
  transcript(): Promise<void>
  availability(): Promise<Availability>
  /**
   * While inactive (say, a chat panel the visitor closed) the client keeps its socket but does
   * not poll. Active by default.
   */
  setActive(active: boolean): void
  /**
   * Forgets the stored session (the next `start()` makes a new one) and stops live updates; no
   * request is made. After a closed session its token is kept as the proof the server asks for,
   * so the new session belongs to the same visitor.
   */
  reset(): void
  /** Stops the socket and polling; the stored session stays. */
  close(): void
}

/** A failed request: `status` 0 and code `NETWORK` when the server was not reached. */
export class ChatApiError extends Error {
  // declared and assigned, not parameter properties: those compile to a define-property helper
  // for the widget's browser targets, bytes its 16 kB budget has no room for
  declare readonly status: number
  declare readonly code: string
  declare readonly retryAfterMs?: number
  constructor(status: number, code: string, message: string, retryAfterMs?: number) {
    super(message)
    this.name = 'ChatApiError'
    this.status = status
    this.code = code
    this.retryAfterMs = retryAfterMs
  }
}
