import { and, desc, eq, gte, lt, or, sql, type SQL } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { chatMessages, chatSessions } from '../db/schema.js'
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
  /** rated with exactly this score (1–5) */
  rating?: number
  /** rated (true) or not rated (false) */
  rated?: boolean
  page: number
  limit: number
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => '\\' + c)

export async function listSessions(db: Executor, f: SessionFilters): Promise<{ sessions: AdminSessionView[]; total: number }> {
  const where: SQL[] = []
  if (f.status && f.status !== 'all') where.push(eq(chatSessions.status, f.status))
  if (f.siteId) where.push(eq(chatSessions.siteId, f.siteId))
  if (f.from) where.push(gte(chatSessions.createdAt, f.from))
  if (f.to) where.push(lt(chatSessions.createdAt, f.to))
  if (f.unread) where.push(sql`${chatSessions.unreadCount} > 0`)
  if (f.rating !== undefined) where.push(eq(chatSessions.ratingScore, f.rating))
  if (f.rated !== undefined) where.push(f.rated ? sql`${chatSessions.ratedAt} is not null` : sql`${chatSessions.ratedAt} is null`)
  if (f.search) {
    const pattern = `%${escapeLike(f.search)}%`
    const inContact = or(
      sql`${chatSessions.name} ilike ${pattern}`,
      sql`${chatSessions.phone} ilike ${pattern}`,
      sql`${chatSessions.email} ilike ${pattern}`,
    )
    const inMessages = sql`exists (select 1 from ${chatMessages} m where m.session_id = ${chatSessions.id} and m.text ilike ${pattern})`
    where.push(sql`(${inContact} or ${inMessages})`)
  }
  const condition = where.length ? and(...where) : undefined
  const [countRow] = await db.select({ total: sql<number>`count(*)::int` }).from(chatSessions).where(condition)
  const rows = await db.select({ session: chatSessions, last: messageColumns }).from(chatSessions)
    .leftJoin(chatMessages, and(eq(chatMessages.sessionId, chatSessions.id), eq(chatMessages.seq, chatSessions.lastSeq)))
    .where(condition)
    .orderBy(desc(sql`coalesce(${chatSessions.lastMessageAt}, ${chatSessions.createdAt})`), desc(chatSessions.id))
    .limit(f.limit).offset((f.page - 1) * f.limit)
  return { sessions: rows.map((r) => adminSessionView(r.session, r.last && messageFromRow(r.last))), total: countRow?.total ?? 0 }
}
