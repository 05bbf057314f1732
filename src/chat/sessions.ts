import { and, eq, sql } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { preparedQuery, preparedStatement } from '../db/prepared.js'
import { chatSessions } from '../db/schema.js'
import { notFound } from './errors.js'
import { isUuid } from './ids.js'
import { MAX_SEQ } from './messages.js'
import { enqueueSessionEvent } from '../outbox/enqueue.js'
import type { Publisher } from '../realtime/bus.js'
import { transaction } from './transaction.js'
import { scopeCondition, type SiteScope } from './visibility.js'

/**
 * A session's row and its lifecycle (read, read marks, close). Starting or resuming one is in
 * session-start.ts, listing and search in session-search.ts, what clients see of it in
 * session-views.ts, its token in session-tokens.ts, who handles it in assignment.ts, who may
 * see it in visibility.ts.
 */

export type Session = typeof chatSessions.$inferSelect

export async function getSession(db: Executor, id: string): Promise<Session> {
  const [s] = isUuid(id) ? await db.select().from(chatSessions).where(eq(chatSessions.id, id)) : []
  if (!s) throw notFound('Session')
  return s
}

const statusStatement = preparedStatement<'id', { status: Session['status'] }>(['id'], (q) => sql`select status from chat_sessions where id = ${q.id}::uuid`)

/** Only the status, by a prepared statement: the hub reads it for every socket it opens. */
export async function getSessionStatus(db: Executor, id: string): Promise<Session['status']> {
  const [s] = isUuid(id) ? await statusStatement(db, { id }) : []
  if (!s) throw notFound('Session')
  return s.status
}

const siteSessionQuery = preparedQuery<'id' | 'siteId', Session[]>('site_session', (db) => db.select().from(chatSessions)
  .where(and(eq(chatSessions.id, sql.placeholder('id')), eq(chatSessions.siteId, sql.placeholder('siteId')))))

/** A session of this site only: another site's session is reported as missing. Prepared: every widget socket's upgrade reads it. */
export async function getSiteSession(db: Executor, siteId: string, id: string): Promise<Session> {
  const [s] = isUuid(id) && isUuid(siteId) ? await siteSessionQuery(db, { id, siteId }) : []
  if (!s) throw notFound('Session')
  return s
}

/**
 * An agent has read the session: its unread count goes to 0 and agentReadSeq to the newest
 * seq (it never moves back). The visitor's sockets are told with a `read` event.
 * `scope`: the sites the caller may see (chat/visibility.ts); a session elsewhere is a 404.
 */
export async function markSessionRead(db: Executor, events: Publisher, id: string, scope: SiteScope = null): Promise<Session> {
  if (!isUuid(id)) throw notFound('Session')
  const [s] = await db.update(chatSessions)
    .set({ unreadCount: 0, agentReadSeq: sql`greatest(${chatSessions.agentReadSeq}, ${chatSessions.lastSeq})`, updatedAt: sql`now()` })
    .where(and(eq(chatSessions.id, id), scopeCondition(scope, chatSessions.siteId))).returning()
  if (!s) throw notFound('Session')
  events.publish({ k: 'session', site: s.siteId, session: s.id })
  if (s.agentReadSeq > 0) events.publish({ k: 'read', site: s.siteId, session: s.id, seq: s.agentReadSeq, from: 'agent' })
  return s
}

const visitorReadQuery = preparedQuery<'id' | 'siteId' | 'seq', Session[]>('visitor_read', (db) => {
  const seen = sql`least(${sql.placeholder('seq')}::int, ${chatSessions.lastSeq})`
  return db.update(chatSessions).set({ visitorReadSeq: seen })
    .where(and(eq(chatSessions.id, sql.placeholder('id')), eq(chatSessions.siteId, sql.placeholder('siteId')), sql`${chatSessions.visitorReadSeq} < ${seen}`))
    .returning()
})

/**
 * The visitor has seen everything up to `seq` (a seq past the newest message counts as the
 * newest). The mark never moves back; only a mark that moves it is written and announced to
 * the dashboards. A session of another site is missing.
 */
export async function markVisitorRead(db: Executor, events: Publisher, siteId: string, id: string, seq: number): Promise<Session> {
  if (!isUuid(id)) throw notFound('Session')
  // any seq a client may hold (up to 2^53 − 1, like `after`) counts; past the integer column it is past lastSeq anyway
  const [moved] = await visitorReadQuery(db, { id, siteId, seq: Math.min(seq, MAX_SEQ) })
  if (!moved) return getSiteSession(db, siteId, id)
  events.publish({ k: 'read', site: moved.siteId, session: moved.id, seq: moved.visitorReadSeq, from: 'visitor' })
  return moved
}

/** Closing a closed session changes nothing and is not an error. `scope` as for markSessionRead. */
export async function closeSession(db: Executor, events: Publisher, id: string, scope: SiteScope = null): Promise<Session> {
  if (!isUuid(id)) throw notFound('Session')
  const closed = await transaction(db, events, async (tx, txEvents) => {
    const [row] = await tx.update(chatSessions)
      .set({ status: 'closed', closedAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(chatSessions.id, id), eq(chatSessions.status, 'open'), scopeCondition(scope, chatSessions.siteId))).returning()
    if (row) {
      txEvents.publish({ k: 'session', site: row.siteId, session: row.id })
      await enqueueSessionEvent(tx, row, 'session.closed')
    }
    return row
  })
  if (closed) return closed
  const [existing] = await db.select().from(chatSessions).where(and(eq(chatSessions.id, id), scopeCondition(scope, chatSessions.siteId)))
  if (!existing) throw notFound('Session')
  return existing
}
