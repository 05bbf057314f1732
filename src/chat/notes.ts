import { asc, eq } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { chatNotes } from '../db/schema.js'
import type { Publisher } from '../realtime/bus.js'
import { assertMessageText } from './messages.js'
import type { User } from './users.js'
import { getVisibleSession, type Viewer } from './visibility.js'

/**
 * Private notes: what staff tell each other about a conversation. Stored apart from
 * messages (no seq), read only by staff routes and the dashboards' fan-out; nothing that
 * serves visitors, Telegram or webhooks reads this table.
 */

export type Note = { id: string; sessionId: string; text: string; author: { id: string | null; name: string }; createdAt: Date }

type NoteRow = typeof chatNotes.$inferSelect

/** The one row → Note mapper. */
export function noteFromRow(row: NoteRow): Note {
  return { id: row.id, sessionId: row.sessionId, text: row.text, author: { id: row.authorId, name: row.authorName }, createdAt: row.createdAt }
}

/** Adds a note to a session the author may see (404 otherwise); closed sessions take notes too. */
export async function addNote(db: Executor, events: Publisher, author: Viewer & Pick<User, 'id' | 'name'>, sessionId: string, text: string): Promise<Note> {
  assertMessageText(text)
  const session = await getVisibleSession(db, author, sessionId)
  const [row] = await db.insert(chatNotes).values({ siteId: session.siteId, sessionId: session.id, authorId: author.id, authorName: author.name, text }).returning()
  if (!row) throw new Error('note insert returned nothing')
  events.publish({ k: 'note', site: session.siteId, session: session.id, note: row.id })
  return noteFromRow(row)
}

/** A session's notes, oldest first (the caller has checked the session is visible). */
export async function listNotes(db: Executor, sessionId: string): Promise<Note[]> {
  return (await db.select().from(chatNotes).where(eq(chatNotes.sessionId, sessionId)).orderBy(asc(chatNotes.createdAt), asc(chatNotes.id))).map(noteFromRow)
}

export async function getNote(db: Executor, id: string): Promise<Note | undefined> {
  const [row] = await db.select().from(chatNotes).where(eq(chatNotes.id, id))
  return row && noteFromRow(row)
}
