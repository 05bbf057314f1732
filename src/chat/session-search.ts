import { and, desc, eq, gte, isNull, lt, sql, type SQL } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { chatMessages, chatSessions, contactSearchText } from '../db/schema.js'
import { validationError } from './errors.js'
import { normaliseLabel } from './labels.js'
import { adminSessionFromRow, adminSessionRows, type AdminSessionView } from './session-views.js'
import { scopeCondition, type SiteScope } from './visibility.js'

/** The dashboard's session list: filters, search in contact details and message text, pages. */

export type SessionFilters = {
  /** what the caller may see (chat/visibility.ts) */
  scope: SiteScope
  status?: 'open' | 'closed' | 'all'
  search?: string
  siteId?: string
  from?: Date
  to?: Date
  unread?: boolean
  /** rated with exactly this score (1–5) */
  rating?: number
  /** rated (true) or not rated (false) */
  rated?: boolean
  /** a user's id, or null for unassigned sessions */
  assignedTo?: string | null
  label?: string
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
  const where: SQL[] = [scopeCondition(f.scope, chatSessions.siteId)]
  if (f.status && f.status !== 'all') where.push(eq(chatSessions.status, f.status))
  if (f.siteId) where.push(eq(chatSessions.siteId, f.siteId))
  if (f.from) where.push(gte(chatSessions.createdAt, f.from))
  if (f.to) where.push(lt(chatSessions.createdAt, f.to))
  if (f.unread) where.push(sql`${chatSessions.unreadCount} > 0`)
  if (f.rating !== undefined) where.push(eq(chatSessions.ratingScore, f.rating))
  if (f.rated !== undefined) where.push(f.rated ? sql`${chatSessions.ratedAt} is not null` : sql`${chatSessions.ratedAt} is null`)
  if (f.assignedTo === null) where.push(isNull(chatSessions.assignedTo))
  else if (f.assignedTo !== undefined) where.push(eq(chatSessions.assignedTo, f.assignedTo))
  if (f.label !== undefined) where.push(sql`${chatSessions.labels} @> array[${normaliseLabel(f.label)}]::text[]`)
  if (f.search) where.push(searchCondition(f.search))
  const condition = and(...where)
  const [countRow] = await db.select({ total: sql<number>`count(*)::int` }).from(chatSessions).where(condition)
  const rows = await adminSessionRows(db)
    .where(condition)
    .orderBy(desc(sql`coalesce(${chatSessions.lastMessageAt}, ${chatSessions.createdAt})`), desc(chatSessions.id))
    .limit(f.limit).offset((f.page - 1) * f.limit)
  return { sessions: rows.map(adminSessionFromRow), total: countRow?.total ?? 0 }
}
