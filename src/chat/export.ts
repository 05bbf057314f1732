import { and, asc, eq, gt, gte, lt, or, type SQL } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { chatMessages, chatSessions } from '../db/schema.js'
import { listMessages, messageColumns, messageFromRow, type Message } from './messages.js'
import { adminSessionView, getAdminSession, type AdminSessionView } from './session-views.js'

/**
 * Exports (GDPR access requests, backups of a site's conversations): a session as one JSON
 * object, or a site's sessions as NDJSON, one `{ session, messages, notes }` line each, read
 * and written in pages so memory stays flat whatever the size. `notes` is the staff's private
 * notes; there are none to export until notes exist.
 */

export type SessionExport = { session: AdminSessionView; messages: Message[]; notes: unknown[] }

export async function exportSession(db: Executor, id: string): Promise<SessionExport> {
  const session = await getAdminSession(db, id)
  return { session, messages: await listMessages(db, session.id), notes: [] }
}

export type ExportFilter = { siteId: string; from?: Date; to?: Date }

const SESSIONS_PER_PAGE = 100
const MESSAGES_PER_PAGE = 1000

async function sessionPage(db: Executor, f: ExportFilter, after: { createdAt: Date; id: string } | undefined) {
  const where: (SQL | undefined)[] = [eq(chatSessions.siteId, f.siteId)]
  if (f.from) where.push(gte(chatSessions.createdAt, f.from))
  if (f.to) where.push(lt(chatSessions.createdAt, f.to))
  if (after) where.push(or(gt(chatSessions.createdAt, after.createdAt), and(eq(chatSessions.createdAt, after.createdAt), gt(chatSessions.id, after.id))))
  return db.select({ session: chatSessions, last: messageColumns }).from(chatSessions)
    .leftJoin(chatMessages, and(eq(chatMessages.sessionId, chatSessions.id), eq(chatMessages.seq, chatSessions.lastSeq)))
    .where(and(...where))
    .orderBy(asc(chatSessions.createdAt), asc(chatSessions.id))
    .limit(SESSIONS_PER_PAGE)
}

/**
 * The NDJSON text of a site's sessions (oldest first), in chunks: a line is written piece by
 * piece (its session, then its messages a page at a time), so neither a site with many
 * sessions nor a session with many messages is ever held whole. Keyset pages on
 * (createdAt, id) and (seq): each query is short, and a session changing meanwhile is exported
 * as it was when read. Pull with backpressure (Readable.from) and stop by returning early.
 */
export async function* exportSessionsNdjson(db: Executor, f: ExportFilter): AsyncGenerator<string> {
  let after: { createdAt: Date; id: string } | undefined
  for (;;) {
    const page = await sessionPage(db, f, after)
    for (const { session, last } of page) {
      const view = adminSessionView(session, last && messageFromRow(last))
      yield `{"session":${JSON.stringify(view)},"messages":[`
      let seq = 0
      let first = true
      for (;;) {
        const messages = await listMessages(db, session.id, { after: seq, limit: MESSAGES_PER_PAGE })
        if (messages.length > 0) {
          yield (first ? '' : ',') + messages.map((m) => JSON.stringify(m)).join(',')
          first = false
          seq = messages[messages.length - 1]?.seq ?? seq
        }
        if (messages.length < MESSAGES_PER_PAGE) break
      }
      yield '],"notes":[]}\n'
    }
    const lastRow = page[page.length - 1]
    if (!lastRow || page.length < SESSIONS_PER_PAGE) return
    after = { createdAt: lastRow.session.createdAt, id: lastRow.session.id }
  }
}
