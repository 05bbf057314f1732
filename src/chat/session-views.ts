import { and, eq } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { chatMessages, chatSessions, users } from '../db/schema.js'
import { notFound } from './errors.js'
import { isUuid } from './ids.js'
import { messageColumns, messageFromRow, type Message } from './messages.js'
import { ratingOf, type Rating } from './ratings.js'
import type { Session } from './sessions.js'
import { scopeCondition, type SiteScope } from './visibility.js'

/** What the widget and the dashboard are shown of a session. */

export type PublicSessionView = Pick<Session, 'id' | 'userSessionId' | 'status' | 'name' | 'phone' | 'createdAt' | 'lastSeq' | 'visitorReadSeq' | 'agentReadSeq'> & {
  /** the session has an email address (the widget offers "Email me this conversation") */
  hasEmail: boolean
  rating: Rating | null
}

export function publicSessionView(s: Session): PublicSessionView {
  return {
    id: s.id, userSessionId: s.userSessionId, status: s.status, name: s.name, phone: s.phone, createdAt: s.createdAt, lastSeq: s.lastSeq,
    visitorReadSeq: s.visitorReadSeq, agentReadSeq: s.agentReadSeq,
    hasEmail: s.email !== null, rating: ratingOf(s),
  }
}

export type Assignee = { id: string; name: string }

export type AdminSessionView = PublicSessionView & Pick<Session,
  'email' | 'pageUrl' | 'locale' | 'siteId' | 'lastMessageAt' | 'unreadCount' | 'closedAt' | 'firstResponseAt' | 'updatedAt' | 'labels'
> & { lastMessage: Message | null; assignedTo: Assignee | null }

/**
 * The admin view's rows: the session, its last message and who it is assigned to, in one
 * read. Add conditions, order and paging with the dynamic builder; map with adminSessionFromRow.
 */
export function adminSessionRows(db: Executor) {
  return db.select({ session: chatSessions, last: messageColumns, assignee: { id: users.id, name: users.name } })
    .from(chatSessions)
    .leftJoin(chatMessages, and(eq(chatMessages.sessionId, chatSessions.id), eq(chatMessages.seq, chatSessions.lastSeq)))
    .leftJoin(users, eq(users.id, chatSessions.assignedTo))
    .$dynamic()
}

type AdminSessionRow = Awaited<ReturnType<ReturnType<typeof adminSessionRows>['execute']>>[number]

/** The one row → admin view mapper. */
export function adminSessionFromRow({ session: s, last, assignee }: AdminSessionRow): AdminSessionView {
  return {
    ...publicSessionView(s),
    email: s.email,
    pageUrl: s.pageUrl,
    locale: s.locale,
    siteId: s.siteId,
    lastMessage: last ? messageFromRow(last) : null,
    lastMessageAt: s.lastMessageAt,
    unreadCount: s.unreadCount,
    assignedTo: assignee?.id ? { id: assignee.id, name: assignee.name } : null,
    labels: s.labels,
    closedAt: s.closedAt,
    firstResponseAt: s.firstResponseAt,
    updatedAt: s.updatedAt,
  }
}

/** The admin view of a session within `scope` (404 outside it, as when missing); no scope: any. */
export async function getAdminSession(db: Executor, id: string, scope: SiteScope = null): Promise<AdminSessionView> {
  const [row] = isUuid(id) ? await adminSessionRows(db).where(and(eq(chatSessions.id, id), scopeCondition(scope, chatSessions.siteId))) : []
  if (!row) throw notFound('Session')
  return adminSessionFromRow(row)
}
