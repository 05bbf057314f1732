import { and, asc, eq, gt, sql } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { parseDbTime } from '../db/client.js'
import { chatMessages } from '../db/schema.js'
import { sessionClosed, validationError } from './errors.js'
import { EVENTS_CHANNEL } from './events.js'

export type Sender = 'visitor' | 'agent' | 'bot' | 'system'

export type Message = {
  id: string
  sessionId: string
  seq: number
  sender: Sender
  senderName: string | null
  text: string
  clientMessageId: string | null
  createdAt: Date
}

export const MAX_TEXT_CHARS = 4000
export const MAX_PAGE = 200
export const DEFAULT_PAGE = 100
/** seq is a Postgres integer */
export const MAX_SEQ = 2_147_483_647

const messageColumns = {
  id: chatMessages.id,
  sessionId: chatMessages.sessionId,
  seq: chatMessages.seq,
  sender: chatMessages.sender,
  senderName: chatMessages.senderName,
  text: chatMessages.text,
  clientMessageId: chatMessages.clientMessageId,
  createdAt: chatMessages.createdAt,
}

const LONE_SURROGATE = /\p{Cs}/u

/** 1–4000 characters once trimmed (code points, so an emoji is one); stored untrimmed. */
export function assertMessageText(text: string, field = 'text'): void {
  // a lone UTF-16 surrogate has no UTF-8 form: it would be stored as U+FFFD, not verbatim
  if (LONE_SURROGATE.test(text)) throw validationError(`${field} is not valid Unicode`, [{ field, message: `${field} contains a lone surrogate` }])
  const trimmed = text.trim()
  if (trimmed === '') throw validationError(`${field} is required`, [{ field, message: `${field} must contain a non-space character` }])
  // code points, not UTF-16 units; the cheap length check skips the count for short texts
  if (trimmed.length > MAX_TEXT_CHARS && Array.from(trimmed).length > MAX_TEXT_CHARS) {
    throw validationError(`${field} must be at most ${MAX_TEXT_CHARS} characters`, [{ field, message: `${field} is too long` }])
  }
}

export type NewMessage = {
  sessionId: string
  sender: Sender
  senderName: string | null
  text: string
  clientMessageId?: string | null
  agentId?: string | null
}

type RawMessageRow = {
  id: string
  session_id: string
  seq: number
  sender: Sender
  sender_name: string | null
  text: string
  client_message_id: string | null
  created_at: string
}

/**
 * Stores one message in a single statement: the UPDATE takes the session's row lock and
 * claims the next seq and a createdAt strictly after the previous one, the INSERT stores
 * the message, and pg_notify queues the event; all commit together. The lock serialises
 * writers of one session until commit, so commit order = seq order = createdAt order, and
 * `since`/`after` are exact. Returns undefined when the session is closed or missing.
 * A duplicate clientMessageId fails the whole statement (unique index), so no seq is spent.
 */
export async function appendMessage(db: Executor, m: NewMessage): Promise<Message | undefined> {
  // statement_timestamp() is fixed for the statement, so every column gets the same instant;
  // greatest() over the row's own previous value (re-read after the lock wait) keeps it strictly increasing.
  const at = sql`greatest(date_trunc('milliseconds', statement_timestamp()), s.last_message_at + interval '1 millisecond')`
  const rows = await db.execute<RawMessageRow>(sql`
    with claimed as (
      update chat_sessions s set
        last_seq = s.last_seq + 1,
        last_message_at = ${at},
        last_visitor_message_at = case when ${m.sender} = 'visitor' then ${at} else s.last_visitor_message_at end,
        unread_count = case ${m.sender} when 'visitor' then s.unread_count + 1 when 'agent' then 0 else s.unread_count end,
        first_response_at = case when ${m.sender} = 'agent' then coalesce(s.first_response_at, ${at}) else s.first_response_at end,
        updated_at = ${at}
      where s.id = ${m.sessionId} and s.status = 'open'
      returning s.id, s.site_id, s.last_seq, s.last_message_at
    ), inserted as (
      insert into chat_messages (session_id, seq, sender, sender_name, text, client_message_id, agent_id, created_at)
      select id, last_seq, ${m.sender}, ${m.senderName}, ${m.text}, ${m.clientMessageId ?? null}, ${m.agentId ?? null}, last_message_at
      from claimed
      returning *
    )
    select i.id, i.session_id, i.seq, i.sender, i.sender_name, i.text, i.client_message_id, i.created_at,
      pg_notify(${EVENTS_CHANNEL}, json_build_object('k', 'message', 'site', c.site_id, 'session', i.session_id, 'seq', i.seq)::text)
    from inserted i cross join claimed c`)
  const row = rows[0]
  if (!row) return undefined
  return {
    id: row.id,
    sessionId: row.session_id,
    seq: row.seq,
    sender: row.sender,
    senderName: row.sender_name,
    text: row.text,
    clientMessageId: row.client_message_id,
    createdAt: parseDbTime(row.created_at),
  }
}

export async function findByClientMessageId(db: Executor, sessionId: string, clientMessageId: string): Promise<Message | undefined> {
  const [m] = await db.select(messageColumns).from(chatMessages)
    .where(and(eq(chatMessages.sessionId, sessionId), eq(chatMessages.clientMessageId, clientMessageId)))
  return m
}

function isUniqueViolation(err: unknown, constraint: string): boolean {
  const e = err as { code?: string; constraint_name?: string; cause?: unknown }
  if (e?.code === '23505' && e.constraint_name === constraint) return true
  return e?.cause !== undefined && isUniqueViolation(e.cause, constraint)
}

/**
 * Appends a message; with a clientMessageId, a retry (also a concurrent one) returns the
 * message already stored under it instead of storing a second copy.
 */
export async function sendMessage(db: Executor, m: NewMessage): Promise<{ message: Message; created: boolean }> {
  assertMessageText(m.text)
  if (m.clientMessageId) {
    const existing = await findByClientMessageId(db, m.sessionId, m.clientMessageId)
    if (existing) return { message: existing, created: false }
  }
  try {
    const message = await appendMessage(db, m)
    if (!message) throw sessionClosed()
    return { message, created: true }
  } catch (err) {
    if (m.clientMessageId && isUniqueViolation(err, 'chat_messages_client_id_uq')) {
      const existing = await findByClientMessageId(db, m.sessionId, m.clientMessageId)
      if (existing) return { message: existing, created: false }
    }
    throw err
  }
}

export type MessageQuery = { since?: Date; after?: number; limit?: number }

/** Oldest first: messages newer than `since` and with seq above `after` (either, both or neither). */
export async function listMessages(db: Executor, sessionId: string, q: MessageQuery = {}): Promise<Message[]> {
  const conditions = [eq(chatMessages.sessionId, sessionId)]
  if (q.after !== undefined) conditions.push(gt(chatMessages.seq, q.after))
  if (q.since !== undefined) conditions.push(gt(chatMessages.createdAt, q.since))
  const query = db.select(messageColumns).from(chatMessages).where(and(...conditions)).orderBy(asc(chatMessages.seq))
  return q.limit === undefined ? query : query.limit(q.limit)
}
