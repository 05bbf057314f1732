import { and, asc, eq, gt, gte, lt, or, type SQL } from 'drizzle-orm'
import type { Db, Executor } from '../db/client.js'
import { chatSessions } from '../db/schema.js'
import { listMessages, type Message } from './messages.js'
import { adminSessionFromRow, adminSessionRows, getAdminSession, type AdminSessionView } from './session-views.js'
import { listNotes, type Note } from './notes.js'
import type { SiteScope } from './visibility.js'

/**
 * Exports (GDPR access requests, backups of a site's conversations): a session as one JSON
 * object, or a site's sessions as NDJSON, one `{ session, messages, notes }` line each, read
 * and written in pages so memory stays flat whatever the size. `notes` is the staff's private
 * notes.
 */

export type SessionExport = { session: AdminSessionView; messages: Message[]; notes: Note[] }

/** One session within `scope` (404 outside it, as when missing: chat/visibility.ts). */
export async function exportSession(db: Executor, id: string, scope: SiteScope): Promise<SessionExport> {
  const session = await getAdminSession(db, id, scope)
  const [messages, notes] = await Promise.all([listMessages(db, session.id), listNotes(db, session.id)])
  return { session, messages, notes }
}

export type ExportFilter = { siteId: string; from?: Date; to?: Date }

// Pages stay small enough (~100 kB of JSON) for V8's young generation: larger strings and
// buffers go to the large-object space, which only a full GC frees, and RSS climbs meanwhile.
const SESSIONS_PER_PAGE = 50
const MESSAGES_PER_PAGE = 100

async function sessionPage(db: Executor, f: ExportFilter, after: { createdAt: Date; id: string } | undefined) {
  const where: (SQL | undefined)[] = [eq(chatSessions.siteId, f.siteId)]
  if (f.from) where.push(gte(chatSessions.createdAt, f.from))
  if (f.to) where.push(lt(chatSessions.createdAt, f.to))
  if (after) where.push(or(gt(chatSessions.createdAt, after.createdAt), and(eq(chatSessions.createdAt, after.createdAt), gt(chatSessions.id, after.id))))
  return adminSessionRows(db)
    .where(and(...where))
    .orderBy(asc(chatSessions.createdAt), asc(chatSessions.id))
    .limit(SESSIONS_PER_PAGE)
}

/**
 * A session's messages as JSON texts in the wire format of Message (same keys in the same
 * order, times as ISO 8601 UTC with milliseconds), written by Postgres and read through a
 * cursor, MESSAGES_PER_PAGE rows at a time: Node only joins and passes the text on.
 */
function messageJsonPages(db: Db, sessionId: string): AsyncIterable<{ m: string }[]> {
  return db.$client<{ m: string }[]>`
    select json_build_object(
        'id', id, 'sessionId', session_id, 'seq', seq, 'sender', sender, 'senderName', sender_name, 'text', text,
        'clientMessageId', client_message_id, 'attachments', coalesce(attachments, '[]'::jsonb), 'createdAt', to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text as m
    from chat_messages where session_id = ${sessionId} order by seq`.cursor(MESSAGES_PER_PAGE)
}

/**
 * The NDJSON text of a site's sessions (oldest first), in chunks: a line is written piece by
 * piece (its session, then its messages a page at a time), so neither a site with many
 * sessions nor a session with many messages is ever held whole. Keyset pages on
 * (createdAt, id), and a cursor over each session's messages: a session changing meanwhile is
 * exported as it was when its messages were first read. Pull with backpressure (Readable.from) and stop by returning early.
 */
export async function* exportSessionsNdjson(db: Db, f: ExportFilter): AsyncGenerator<string> {
  let after: { createdAt: Date; id: string } | undefined
  for (;;) {
    const page = await sessionPage(db, f, after)
    for (const row of page) {
      const { session } = row
      const view = adminSessionFromRow(row)
      yield `{"session":${JSON.stringify(view)},"messages":[`
      let first = true
      for await (const rows of messageJsonPages(db, session.id)) {
        yield (first ? '' : ',') + rows.map((r) => r.m).join(',')
        first = false
      }
      yield `],"notes":${JSON.stringify(await listNotes(db, session.id))}}\n`
    }
    const lastRow = page[page.length - 1]
    if (!lastRow || page.length < SESSIONS_PER_PAGE) return
    after = { createdAt: lastRow.session.createdAt, id: lastRow.session.id }
  }
}
