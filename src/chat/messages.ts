import { and, asc, eq, gt, sql } from 'drizzle-orm'
import { isPool, type Executor } from '../db/client.js'
import { preparedStatement } from '../db/prepared.js'
import { chatMessages, chatSessions } from '../db/schema.js'
import { MAX_ATTACHMENTS_PER_MESSAGE } from './attachments.js'
import { loneSurrogateError, notFound, nulError, sessionClosed, validationError } from './errors.js'
import { isUuid } from './ids.js'
import { appendVariant } from './message-append.js'
import { appendBatched } from './message-append-batch.js'
import { messageColumns, messageFields, messageFromRow, type Message, type MessageRow, type Sender } from './message-row.js'
import type { Publisher } from '../realtime/bus.js'
import { inScope, scopeCondition, type SiteScope } from './visibility.js'

export { messageColumns, messageFromRow }
export type { Message, Sender }

export const MAX_TEXT_CHARS = 4000
export const MAX_PAGE = 200
export const DEFAULT_PAGE = 100
/** seq is a Postgres integer */
export const MAX_SEQ = 2_147_483_647
/**
 * What a client may send as `after`: any seq it might hold, up to 2^53 − 1. Above the
 * session's lastSeq it means "nothing yet"; it is clamped before it reaches the integer
 * column, where it would be an error.
 */
export const MAX_AFTER = Number.MAX_SAFE_INTEGER
export const seqBound = (after: number) => Math.min(after, MAX_SEQ)

// a UTF-16 surrogate not in a pair: it has no UTF-8 form, Postgres would store U+FFFD
const LONE_SURROGATE = /\p{Cs}/u

/**
 * 1–4000 characters once trimmed (code points, so an emoji is one); stored untrimmed. With
 * `mayBeEmpty` (a message carrying files) it may also be empty or blank. No NUL characters,
 * no lone surrogates.
 */
export function assertMessageText(text: string, field = 'text', mayBeEmpty = false): void {
  const trimmed = text.trim()
  if (trimmed === '' && !mayBeEmpty) throw validationError(`${field} is required`, [{ field, message: `${field} must contain a non-space character` }])
  // code points, not UTF-16 units; the cheap length check skips the count for short texts
  if (trimmed.length > MAX_TEXT_CHARS && Array.from(trimmed).length > MAX_TEXT_CHARS) {
    throw validationError(`${field} must be at most ${MAX_TEXT_CHARS} characters`, [{ field, message: `${field} is too long` }])
  }
  // Postgres text cannot hold U+0000: refused here, a Telegram reply gets told instead of failing its update on every attempt
  if (text.includes('\u0000')) throw nulError(field)
  // HTTP bodies and frames holding one are refused before here (http/lone-surrogates.ts); a Telegram reply's JSON is not
  if (LONE_SURROGATE.test(text)) throw loneSurrogateError(field)
}

export type NewMessage = {
  sessionId: string
  /** the sites the writer may reach (chat/visibility.ts); a session elsewhere counts as missing. Unset: any */
  scope?: SiteScope
  sender: Sender
  /** visitors' messages carry the session's current name instead */
  senderName?: string | null
  text: string
  clientMessageId?: string | null
  agentId?: string | null
  /** ids of complete uploads of this session, by this side (visitor or staff), not yet sent; at most 5 */
  attachments?: string[]
  /**
   * post it to the site's Telegram chat; by default visitor messages only (a new session's
   * card already quotes its first message; a dashboard reply is shown to the managers in Telegram)
   */
  forwardToTelegram?: boolean
  /**
   * given when the server sends email: an agent message to a visitor who is away (and left an
   * email) is queued for an offline email in the same statement
   */
  offlineEmail?: OfflineEmailPolicy
}

export type OfflineEmailPolicy = {
  /** away: no public request and no open widget socket for this long */
  visitorAwayMs: number
  /** replies within this long after the first one share one email */
  batchMs: number
}


/**
 * Stores one message in a single statement: the UPDATE takes the session's row lock and
 * claims the next seq and a createdAt strictly after the previous one, and the INSERT stores
 * the message; both commit together. The lock serialises writers of one session until
 * commit, so commit order = seq order = createdAt order, and `since`/`after` are exact. The
 * event is announced after the commit (see PostgresBus for why not inside it), or, inside a
 * transaction, held by its Publisher until that commits.
 * Returns undefined when the session is closed, missing or another site's, or when one of
 * the attachments is not free to send.
 * A duplicate clientMessageId fails the whole statement (unique index), so no seq is spent.
 * The outbox rows (webhooks, Telegram) are inserted by the same statement.
 * On the pool, sends without files that arrive while others are being stored share one
 * statement (group commit, chat/message-append-batch.ts); a send alone is still one statement.
 */
export async function appendMessage(db: Executor, events: Publisher, m: NewMessage): Promise<Message | undefined> {
  const ids = m.attachments ?? []
  const telegram = m.forwardToTelegram ?? m.sender === 'visitor'
  const email = m.sender === 'agent' ? m.offlineEmail : undefined
  const values = {
    sessionId: m.sessionId, // the caller's sites as one text parameter (a prepared statement's inputs are scalars); null: every site
    siteIds: m.scope ? m.scope.join(',') : null, sender: m.sender, senderName: m.senderName ?? null, text: m.text,
    clientMessageId: m.clientMessageId ?? null, agentId: m.agentId ?? null, attachmentIds: `{${ids.join(',')}}`,
    awayMs: email?.visitorAwayMs ?? 0, batchMs: email?.batchMs ?? 0,
  }
  const row = isPool(db) && ids.length === 0
    ? await appendBatched(db, { telegram, email: email !== undefined }, values)
    : (await appendVariant(telegram, ids.length > 0, email !== undefined)(db, values))[0]
  if (!row) return undefined
  const message = messageFromRow(row)
  // a bus that carries it saves the receivers a re-read (realtime/bus.ts); no outbox row queued: no worker need look
  events.publish({ k: 'message', site: row.siteId, session: row.sessionId, seq: row.seq, message, ...(row.outboxQueued ? {} : { outbox: false }) })
  return message
}

/** The message stored under this clientMessageId, only in a session within the scope (null: any). */
export async function findByClientMessageId(db: Executor, sessionId: string, clientMessageId: string, scope: SiteScope = null): Promise<Message | undefined> {
  const [row] = await db.select(messageColumns).from(chatMessages)
    .innerJoin(chatSessions, eq(chatSessions.id, chatMessages.sessionId))
    .where(and(
      eq(chatMessages.sessionId, sessionId),
      eq(chatMessages.clientMessageId, clientMessageId),
      scopeCondition(scope, chatSessions.siteId),
    ))
  return row && messageFromRow(row)
}

function isUniqueViolation(err: unknown, constraint: string): boolean {
  const e = err as { code?: string; constraint_name?: string; cause?: unknown }
  if (e?.code === '23505' && e.constraint_name === constraint) return true
  return e?.cause !== undefined && isUniqueViolation(e.cause, constraint)
}

/** The attachment ids of a send: at most 5, distinct uuids. */
function assertAttachmentIds(ids: string[]): void {
  const field = 'attachments'
  if (ids.length > MAX_ATTACHMENTS_PER_MESSAGE) {
    throw validationError(`At most ${MAX_ATTACHMENTS_PER_MESSAGE} attachments per message`, [{ field, message: 'too many attachments' }])
  }
  if (new Set(ids).size !== ids.length) throw validationError('An attachment is listed twice', [{ field, message: 'duplicate attachment id' }])
  const bad = ids.find((id) => !isUuid(id))
  if (bad !== undefined) throw validationError(`${field}: "${bad}" is not an attachment id`, [{ field, message: 'not an attachment id' }])
}

const attachmentsNotFree = () => validationError(
  'An attachment cannot be sent: it is unknown, still uploading, uploaded to another session or by the other side, or already sent',
  [{ field: 'attachments', message: 'attachment not available' }],
)

/**
 * The message a retry of `m` finds already stored. A function of the module's, not a closure
 * in sendMessage: under tsx every named closure costs a defineProperty per call.
 */
const storedBefore = (db: Executor, m: NewMessage) =>
  m.clientMessageId ? findByClientMessageId(db, m.sessionId, m.clientMessageId, m.scope) : Promise.resolve(undefined)

/**
 * Appends a message; with a clientMessageId, a retry (also a concurrent one) returns the
 * message already stored under it instead of storing a second copy. A first send costs one
 * statement: the retry is found only when the append fails on the unique index or claims
 * nothing (the session closed since, or the first send already took the files), so a retry
 * answers 200 as before. Scoped by site: another site's key and secret, or a user of other
 * sites, must not read a message through a retry.
 * Inside a transaction a retry's unique violation would abort it, so there (no caller does
 * today: session-start's first message carries no clientMessageId) the retry is looked up first.
 */
export async function sendMessage(db: Executor, events: Publisher, m: NewMessage): Promise<{ message: Message; created: boolean }> {
  const attachments = m.attachments ?? []
  assertAttachmentIds(attachments)
  assertMessageText(m.text, 'text', attachments.length > 0)
  if (!isUuid(m.sessionId)) throw notFound('Session')
  const existing = isPool(db) ? undefined : await storedBefore(db, m)
  if (existing) return { message: existing, created: false }
  let message: Message | undefined
  try {
    message = await appendMessage(db, events, m)
  } catch (err) {
    const retried = m.clientMessageId && isUniqueViolation(err, 'chat_messages_client_id_uq') ? await storedBefore(db, m) : undefined
    if (retried) return { message: retried, created: false }
    throw err
  }
  if (message) return { message, created: true }
  // nothing claimed: a retry (of a send whose session closed since, or that took the files) gets what was stored
  const stored = await storedBefore(db, m)
  if (stored) return { message: stored, created: false }
  // otherwise tell a missing (or other site's) session from a closed one, and those from files that were not free
  const [session] = await db.select({ siteId: chatSessions.siteId, status: chatSessions.status }).from(chatSessions).where(eq(chatSessions.id, m.sessionId))
  if (!session || !inScope(m.scope ?? null, session.siteId)) throw notFound('Session')
  if (session.status !== 'open' || attachments.length === 0) throw sessionClosed()
  throw attachmentsNotFree()
}

export type MessageQuery = { since?: Date; after?: number; limit?: number }

/**
 * The hub's read (every socket's backlog, every notification's re-read): one prepared
 * statement, so opening a socket does not build a drizzle query (~100 KiB of garbage each,
 * bench/idle.ts); `limit` null is no limit.
 */
const messagesAfterStatement = preparedStatement<'sessionId' | 'after' | 'limit', MessageRow>(
  ['sessionId', 'after', 'limit'], (q) => sql`
    select ${messageFields('m')} from chat_messages m
    where m.session_id = ${q.sessionId}::uuid and m.seq > ${q.after}::int
    order by m.seq limit ${q.limit}::int`)

/** Oldest first: messages newer than `since` and with seq above `after` (either, both or neither). */
export async function listMessages(db: Executor, sessionId: string, q: MessageQuery = {}): Promise<Message[]> {
  if (q.after !== undefined && q.since === undefined) {
    const rows = await messagesAfterStatement(db, { sessionId, after: seqBound(q.after), limit: q.limit ?? null })
    return rows.map(messageFromRow)
  }
  const conditions = [eq(chatMessages.sessionId, sessionId)]
  if (q.after !== undefined) conditions.push(gt(chatMessages.seq, seqBound(q.after)))
  if (q.since !== undefined) conditions.push(gt(chatMessages.createdAt, q.since))
  const query = db.select(messageColumns).from(chatMessages).where(and(...conditions)).orderBy(asc(chatMessages.seq))
  return (await (q.limit === undefined ? query : query.limit(q.limit))).map(messageFromRow)
}
