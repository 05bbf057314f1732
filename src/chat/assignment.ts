import { eq, sql } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { chatSessions } from '../db/schema.js'
import { notFound } from './errors.js'
import type { Publisher } from '../realtime/bus.js'
import type { Session } from './sessions.js'
import { recordAudit, type AuditActor } from './audit.js'

/**
 * Assigns the session to an agent (or nobody); the dashboards see it as a session update.
 * With an actor, the audit log records who did it.
 */
export async function assignSession(db: Executor, events: Publisher, id: string, userId: string | null, actor?: AuditActor): Promise<Session> {
  const [s] = await db.update(chatSessions).set({ assignedTo: userId, updatedAt: sql`now()` }).where(eq(chatSessions.id, id)).returning()
  if (!s) throw notFound('Session')
  events.publish({ k: 'session', site: s.siteId, session: s.id })
  if (actor !== undefined) await recordAudit(db, { actor, action: 'session.assigned', target: s.id, siteId: s.siteId, details: { assignedTo: userId } })
  return s
}
