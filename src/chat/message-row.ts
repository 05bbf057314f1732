import { sql } from 'drizzle-orm'
import { parseDbTime } from '../db/client.js'
import { chatMessages, type AttachedFile } from '../db/schema.js'

export type Sender = 'visitor' | 'agent' | 'bot' | 'system'

export type Message = {
  id: string
  sessionId: string
  seq: number
  sender: Sender
  senderName: string | null
  text: string
  clientMessageId: string | null
  /** always present; [] when none. Clients get each with a signed `url` (files/links.ts). */
  attachments: AttachedFile[]
  createdAt: Date
}

/** The columns a Message shows, for drizzle selects (map the rows with messageFromRow). */
export const messageColumns = {
  id: chatMessages.id,
  sessionId: chatMessages.sessionId,
  seq: chatMessages.seq,
  sender: chatMessages.sender,
  senderName: chatMessages.senderName,
  text: chatMessages.text,
  clientMessageId: chatMessages.clientMessageId,
  attachments: chatMessages.attachments,
  createdAt: chatMessages.createdAt,
}

/**
 * A row with a Message's columns: as drizzle reads them (`messageColumns`), or as a raw
 * statement reads them (`messageFields`), which returns timestamps as text.
 */
export type MessageRow = Omit<Message, 'createdAt' | 'attachments'> & { createdAt: Date | string; attachments: AttachedFile[] | null }

/** The raw-SQL twin of `messageColumns`: the same columns of the row aliased `alias`, named as in Message. */
export const messageFields = (alias: 'i' | 'm') => sql.raw([
  'id', 'session_id as "sessionId"', 'seq', 'sender', 'sender_name as "senderName"', 'text',
  'client_message_id as "clientMessageId"', 'attachments', 'created_at as "createdAt"',
].map((column) => `${alias}.${column}`).join(', '))

/** The one row → Message mapper. */
export function messageFromRow(row: MessageRow): Message {
  return {
    id: row.id,
    sessionId: row.sessionId,
    seq: row.seq,
    sender: row.sender,
    senderName: row.senderName,
    text: row.text,
    clientMessageId: row.clientMessageId,
    attachments: row.attachments ?? [],
    createdAt: parseDbTime(row.createdAt),
  }
}
