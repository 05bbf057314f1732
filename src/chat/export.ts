import { and, asc, eq, gt, gte, lt, or, type SQL } from 'drizzle-orm'
import { finished } from 'node:stream/promises'
import { reserveDb, type Db, type Executor, type Sql } from '../db/client.js'
import { chatSessions } from '../db/schema.js'
import { isUuid } from './ids.js'
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

// Sessions are read in keyset pages; their messages, the bulk, never become JS objects or
// strings (below).
const SESSIONS_PER_PAGE = 50

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

const NEWLINE = 0x0a
const COMMA = 0x2c

/**
 * A session's messages as the bytes of their JSON texts joined by commas, in the wire format
 * of Message (same keys in the same order, times as ISO 8601 UTC with milliseconds), written
 * by Postgres and streamed with COPY. Node passes the bytes on as they came off the socket:
 * read through a cursor instead, every row became a JS object and string, and that churn
 * grew the young generation and promoted garbage, ~50 MB of RSS for 100k messages (the
 * bench:export baseline still shows it). The COPY stream pauses the socket when it is full,
 * so memory stays bounded by a few socket reads.
 *
 * COPY's CSV has a row a line; with a delimiter and a quote byte that JSON text never holds
 * raw (Postgres escapes control characters in JSON), each line is a JSON text as it is, and
 * the newlines (which JSON text never holds raw either) become the commas between them.
 */
async function* messageJsonBytes(sql: Sql, sessionId: string): AsyncGenerator<Buffer> {
  // COPY runs as a simple query, which takes no parameters: the id is written into it
  if (!isUuid(sessionId)) throw new Error(`not a session id: ${sessionId}`)
  const copy = await sql.unsafe(`copy (
    select json_build_object(
        'id', id, 'sessionId', session_id, 'seq', seq, 'sender', sender, 'senderName', sender_name, 'text', text,
        'clientMessageId', client_message_id, 'attachments', coalesce(attachments, '[]'::jsonb), 'createdAt', to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text
    from chat_messages where session_id = '${sessionId}' order by seq
  ) to stdout with (format csv, delimiter E'\\x01', quote E'\\x02')`).readable()
  // the last byte read so far, held back: the stream's very last one is the final row's newline
  let held: Buffer | undefined
  let done = false
  try {
    // not destroyed when the export stops midway: see finally
    for await (const chunk of copy.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      if (chunk.length === 0) continue
      // in place: postgres.js is done with these bytes once it has pushed them
      for (let i = chunk.indexOf(NEWLINE); i >= 0; i = chunk.indexOf(NEWLINE, i + 1)) chunk[i] = COMMA
      if (held) yield held
      yield chunk.subarray(0, -1)
      held = chunk.subarray(-1)
    }
    done = true
  } finally {
    // stopped midway (the client went away): a destroyed COPY stream leaves postgres.js's
    // socket paused and the connection stuck, so the rest of this session's rows are read
    // and dropped, before the connection goes back to the pool; a cancel could hit the
    // connection's next query instead
    if (!done) await finished(copy.resume()).catch(() => {})
  }
}

/**
 * The NDJSON of a site's sessions (oldest first), in chunks: a line is written piece by piece
 * (its session, then its messages as they stream), so neither a site with many sessions nor a
 * session with many messages is ever held whole. Keyset pages on (createdAt, id), and one COPY
 * per session's messages: a session changing meanwhile is exported as it was when its COPY
 * began. Pull with backpressure (Readable.from) and stop by returning early.
 */
export async function* exportSessionsNdjson(pool: Db, f: ExportFilter): AsyncGenerator<string | Buffer> {
  // every query of the export on one connection: it needs one at most, whatever the pool's load
  const { db, release } = await reserveDb(pool)
  try {
    let after: { createdAt: Date; id: string } | undefined
    for (;;) {
      const page = await sessionPage(db, f, after)
      for (const row of page) {
        yield `{"session":${JSON.stringify(adminSessionFromRow(row))},"messages":[`
        yield* messageJsonBytes(db.$client, row.session.id)
        yield `],"notes":${JSON.stringify(await listNotes(db, row.session.id))}}\n`
      }
      const lastRow = page[page.length - 1]
      if (!lastRow || page.length < SESSIONS_PER_PAGE) return
      after = { createdAt: lastRow.session.createdAt, id: lastRow.session.id }
    }
  } finally {
    release()
  }
}
