import { and, desc, eq, gte, lt, sql, type SQL } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { chatMessages, chatSessions, contactSearchText } from '../db/schema.js'
import { validationError } from './errors.js'
import { messageColumns, messageFromRow } from './messages.js'
import { adminSessionView, type AdminSessionView } from './session-views.js'

/** The dashboard's session list: filters, search in contact details and message text, pages. */

export type SessionFilters = {
  status?: 'open' | 'closed' | 'all'
  search?: string
  siteId?: string
  from?: Date
  to?: Date
  unread?: boolean
  page: number
  limit: number
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => '\\' + c)

/** How deep a page may reach (page × limit): an OFFSET reads and drops every row before it. */
export const MAX_LIST_DEPTH = 10_000
/**
 * Message text is searched through its trigram index (pg_trgm), which needs three characters
 * to narrow anything down; a shorter search matches the contact details only, rather than
 * reading every message.
 */
export const MIN_MESSAGE_SEARCH_CHARS = 3

function searchCondition(search: string): SQL {
  const pattern = `%${escapeLike(search)}%`
  // the same expression as the contact trigram index (schema.ts), so the index serves it
  const inContact = sql`${contactSearchText(chatSessions)} ilike ${pattern}`
  if (search.length < MIN_MESSAGE_SEARCH_CHARS) return inContact
  const inMessages = sql`${chatSessions.id} in (select m.session_id from ${chatMessages} m where m.text ilike ${pattern})`
  return sql`(${inContact} or ${inMessages})`
}

export async function listSessions(db: Executor, f: SessionFilters): Promise<{ sessions: AdminSessionView[]; total: number }> {
  if (f.page * f.limit > MAX_LIST_DEPTH) {
    throw validationError(`page × limit may reach at most ${MAX_LIST_DEPTH} sessions deep; narrow the filters (dates, status, search) instead`, [{ field: 'page', message: 'too deep' }])
  }
  const where: SQL[] = []
  if (f.status && f.status !== 'all') where.push(eq(chatSessions.status, f.status))
  if (f.siteId) where.push(eq(chatSessions.siteId, f.siteId))
  if (f.from) where.push(gte(chatSessions.createdAt, f.from))
  if (f.to) where.push(lt(chatSessions.createdAt, f.to))
  if (f.unread) where.push(sql`${chatSessions.unreadCount} > 0`)
  if (f.search) where.push(searchCondition(f.search))
  const condition = where.length ? and(...where) : undefined
  const [countRow] = await db.select({ total: sql<number>`count(*)::int` }).from(chatSessions).where(condition)
  const rows = await db.select({ session: chatSessions, last: messageColumns }).from(chatSessions)
    .leftJoin(chatMessages, and(eq(chatMessages.sessionId, chatSessions.id), eq(chatMessages.seq, chatSessions.lastSeq)))
    .where(condition)
    .orderBy(desc(sql`coalesce(${chatSessions.lastMessageAt}, ${chatSessions.createdAt})`), desc(chatSessions.id))
    .limit(f.limit).offset((f.page - 1) * f.limit)
  return { sessions: rows.map((r) => adminSessionView(r.session, r.last && messageFromRow(r.last))), total: countRow?.total ?? 0 }
}
