import type { Executor } from '../db/client.js'
import { listMessages, type Message } from './messages.js'
import { getSession, type Session } from './sessions.js'

/** What the widget and the dashboard are shown of a session. */

export type PublicSessionView = Pick<Session, 'id' | 'userSessionId' | 'status' | 'name' | 'phone' | 'createdAt' | 'lastSeq' | 'visitorReadSeq' | 'agentReadSeq'>

export function publicSessionView(s: Session): PublicSessionView {
  return {
    id: s.id, userSessionId: s.userSessionId, status: s.status, name: s.name, phone: s.phone, createdAt: s.createdAt, lastSeq: s.lastSeq,
    visitorReadSeq: s.visitorReadSeq, agentReadSeq: s.agentReadSeq,
  }
}

export type AdminSessionView = PublicSessionView & Pick<Session,
  'email' | 'pageUrl' | 'locale' | 'siteId' | 'lastMessageAt' | 'unreadCount' | 'assignedTo' | 'closedAt' | 'firstResponseAt' | 'updatedAt'
> & { lastMessage: Message | null }

export function adminSessionView(s: Session, lastMessage: Message | null): AdminSessionView {
  return {
    ...publicSessionView(s),
    email: s.email,
    pageUrl: s.pageUrl,
    locale: s.locale,
    siteId: s.siteId,
    lastMessage,
    lastMessageAt: s.lastMessageAt,
    unreadCount: s.unreadCount,
    assignedTo: s.assignedTo,
    closedAt: s.closedAt,
    firstResponseAt: s.firstResponseAt,
    updatedAt: s.updatedAt,
  }
}

export async function getAdminSession(db: Executor, id: string): Promise<AdminSessionView> {
  const session = await getSession(db, id)
  const [last] = session.lastSeq > 0 ? await listMessages(db, id, { after: session.lastSeq - 1 }) : []
  return adminSessionView(session, last ?? null)
}
