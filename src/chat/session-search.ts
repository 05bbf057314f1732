import { and, desc, eq, gte, isNull, lt, or, sql, type SQL } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { chatMessages, chatSessions } from '../db/schema.js'
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
  /** a user's id, or null for unassigned sessions */
  assignedTo?: string | null
  label?: string
  page: number
  limit: number
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => '\\' + c)

export async function listSessions(db: Executor, f: SessionFilters): Promise<{ sessions: AdminSessionView[]; total: number }> {
  const where: SQL[] = [scopeCondition(f.scope, chatSessions.siteId)]
  if (f.status && f.status !== 'all') where.push(eq(chatSessions.status, f.status))
  if (f.siteId) where.push(eq(chatSessions.siteId, f.siteId))
  if (f.from) where.push(gte(chatSessions.createdAt, f.from))
  if (f.to) where.push(lt(chatSessions.createdAt, f.to))
  if (f.unread) where.push(sql`${chatSessions.unreadCount} > 0`)
  if (f.assignedTo === null) where.push(isNull(chatSessions.assignedTo))
  else if (f.assignedTo !== undefined) where.push(eq(chatSessions.assignedTo, f.assignedTo))
  if (f.label !== undefined) where.push(sql`${chatSessions.labels} @> array[${normaliseLabel(f.label)}]::text[]`)
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
  const condition = and(...where)
  const [countRow] = await db.select({ total: sql<number>`count(*)::int` }).from(chatSessions).where(condition)
  const rows = await adminSessionRows(db)
    .where(condition)
    .orderBy(desc(sql`coalesce(${chatSessions.lastMessageAt}, ${chatSessions.createdAt})`), desc(chatSessions.id))
    .limit(f.limit).offset((f.page - 1) * f.limit)
  return { sessions: rows.map(adminSessionFromRow), total: countRow?.total ?? 0 }
}
