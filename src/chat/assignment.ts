import { and, asc, eq, inArray, isNull, not, sql } from 'drizzle-orm'
import type { Db, Executor } from '../db/client.js'
import { chatSessions, sites, users } from '../db/schema.js'
import { forbidden, validationError } from './errors.js'
import type { Publisher } from '../realtime/bus.js'
import type { Session } from './sessions.js'
import { recordAudit, type AuditActor } from './audit.js'
import { transaction } from './transaction.js'
import type { User } from './users.js'
import { getVisibleSession, scopeCondition, worksOn, worksOnCondition } from './visibility.js'

/**
 * Who handles a conversation. By hand: an agent takes a chat or gives it back, an admin
 * assigns it to anyone who works on its site (Telegram's /take is the same operation). By
 * itself: auto-assignment gives a site's waiting chats to its online agents, fewest open
 * assigned chats first, below the site's cap, ties to whoever waited longest since their
 * last assignment.
 *
 * Under concurrency (several instances, several sites sharing agents) every assignment locks
 * the assignee's user row before the agent's load is counted, so no two rounds can both see
 * the same free slot; a per-site advisory lock keeps a site's rounds one at a time.
 */

/** Auto-assignment's advisory lock namespace; the key is the site's hash. */
const AUTO_ASSIGN_LOCK = 0x61_73_6e
const AUTO_ASSIGN_BATCH = 100

export type Assigner = Pick<User, 'id' | 'role' | 'siteIds'>

/** A Postgres array literal: one parameter, whatever the length. */
const pgArray = (values: readonly (string | number)[]) => `{${values.join(',')}}`

/**
 * Assigns the session to `userId`, or to nobody. Agents may take a chat or unassign
 * themselves; admins may assign anyone who works on the session's site (else 400). Manual
 * assignment is not held to the auto-assignment cap. `changed` is false when it was so already.
 * With `audited`, the audit log records who did it.
 */
export async function assignSession(db: Executor, events: Publisher, actor: Assigner, sessionId: string, userId: string | null, audited?: AuditActor): Promise<{ session: Session; changed: boolean }> {
  return transaction(db, events, async (tx, txEvents) => {
    const session = await getVisibleSession(tx, actor, sessionId)
    if (actor.role !== 'admin') {
      if (userId !== null && userId !== actor.id) throw forbidden('Agents may assign a chat only to themselves')
      if (userId === null && session.assignedTo !== null && session.assignedTo !== actor.id) throw forbidden('Agents may unassign only themselves')
    }
    if (userId !== null) {
      // locked like auto-assignment's candidates, so a round counting this agent's load waits for this one
      const [assignee] = await tx.select().from(users).where(eq(users.id, userId)).for('update')
      if (!assignee || assignee.disabled || !worksOn(assignee, session.siteId)) {
        throw validationError('userId must be an enabled user who works on this session\'s site', [{ field: 'userId', message: 'not a user of this site' }])
      }
    }
    if (session.assignedTo === userId) return { session, changed: false }
    const [updated] = await tx.update(chatSessions)
      .set({ assignedTo: userId, assignedAt: userId === null ? null : sql`now()`, updatedAt: sql`now()` })
      .where(eq(chatSessions.id, session.id)).returning()
    if (!updated) throw new Error('the session vanished while being assigned')
    if (userId !== null) await tx.update(users).set({ lastAssignedAt: sql`now()` }).where(eq(users.id, userId))
    txEvents.publish({ k: 'session', site: updated.siteId, session: updated.id })
    if (audited !== undefined) await recordAudit(tx, { actor: audited, action: 'session.assigned', target: updated.id, siteId: updated.siteId, details: { assignedTo: userId } })
    return { session: updated, changed: true }
  })
}

/**
 * Gives back the open chats of a user who no longer works on their site (their team
 * changed) or was disabled: they can no longer answer them, and auto-assignment places only
 * unassigned chats, so such a chat would wait for nobody. Closed chats keep who handled them.
 */
export async function releaseAssignments(db: Executor, events: Publisher, user: Pick<User, 'id' | 'siteIds' | 'disabled'>): Promise<number> {
  const released = await db.update(chatSessions)
    .set({ assignedTo: null, assignedAt: null, updatedAt: sql`now()` })
    .where(and(eq(chatSessions.assignedTo, user.id), eq(chatSessions.status, 'open'), user.disabled ? undefined : not(scopeCondition(user.siteIds, chatSessions.siteId))))
    .returning({ id: chatSessions.id, siteId: chatSessions.siteId })
  for (const s of released) events.publish({ k: 'session', site: s.siteId, session: s.id })
  return released.length
}

type Candidate = { id: string; open: number; lastAssignedAt: number }

/** The agent who gets the next chat: fewest open below the cap, then longest since the last assignment. */
function pick(candidates: Candidate[], cap: number): Candidate | undefined {
  let best: Candidate | undefined
  for (const c of candidates) {
    if (c.open >= cap) continue
    if (!best || c.open < best.open || (c.open === best.open && (c.lastAssignedAt < best.lastAssignedAt || (c.lastAssignedAt === best.lastAssignedAt && c.id < best.id)))) best = c
  }
  return best
}

/**
 * One round for a site: its waiting chats (oldest first) to its online agents. `online` is
 * who is online now (presence). Returns how many chats were assigned.
 */
export async function autoAssignSite(db: Db, events: Publisher, siteId: string, online: readonly string[]): Promise<number> {
  if (online.length === 0) return 0
  return transaction(db, events, async (tx, txEvents) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${AUTO_ASSIGN_LOCK}, hashtext(${siteId}))`)
    const [site] = await tx.select({ enabled: sites.autoAssign, cap: sites.maxOpenPerAgent }).from(sites).where(eq(sites.id, siteId))
    if (!site?.enabled) return 0
    const waiting = await tx.select({ id: chatSessions.id }).from(chatSessions)
      .where(and(eq(chatSessions.siteId, siteId), eq(chatSessions.status, 'open'), isNull(chatSessions.assignedTo)))
      .orderBy(asc(chatSessions.createdAt), asc(chatSessions.id)).limit(AUTO_ASSIGN_BATCH)
    if (waiting.length === 0) return 0
    // locked first, counted after: the count's snapshot then holds every assignment committed before
    const agents = await tx.select({ id: users.id, lastAssignedAt: users.lastAssignedAt }).from(users)
      .where(and(inArray(users.id, [...online]), eq(users.role, 'agent'), eq(users.disabled, false), worksOnCondition(siteId, users.siteIds)))
      .orderBy(asc(users.id)).for('update')
    if (agents.length === 0) return 0
    const counts = await tx.select({ id: chatSessions.assignedTo, open: sql<number>`count(*)::int` }).from(chatSessions)
      .where(and(eq(chatSessions.status, 'open'), inArray(chatSessions.assignedTo, agents.map((a) => a.id))))
      .groupBy(chatSessions.assignedTo)
    const openOf = new Map(counts.map((c) => [c.id, c.open]))
    const candidates: Candidate[] = agents.map((a) => ({ id: a.id, open: openOf.get(a.id) ?? 0, lastAssignedAt: a.lastAssignedAt?.getTime() ?? -Infinity }))
    const plan: { sessionId: string; userId: string }[] = []
    let order = Date.now()
    for (const { id } of waiting) {
      const agent = pick(candidates, site.cap)
      if (!agent) break
      plan.push({ sessionId: id, userId: agent.id })
      agent.open++
      agent.lastAssignedAt = Math.max(order++, agent.lastAssignedAt + 1)
    }
    if (plan.length === 0) return 0
    const assigned = await tx.execute<{ id: string; site_id: string }>(sql`
      update chat_sessions cs set assigned_to = p.user_id, assigned_at = now(), updated_at = now()
      from unnest(${pgArray(plan.map((p) => p.sessionId))}::uuid[], ${pgArray(plan.map((p) => p.userId))}::uuid[]) as p(session_id, user_id)
      where cs.id = p.session_id and cs.status = 'open' and cs.assigned_to is null
      returning cs.id, cs.site_id`)
    // each agent's last assignment in this round, in order, so the next round's ties follow it
    const lastIndex = new Map(plan.map((p, i) => [p.userId, i]))
    await tx.execute(sql`
      update users u set last_assigned_at = now() + p.ord * interval '1 millisecond'
      from unnest(${pgArray([...lastIndex.keys()])}::uuid[], ${pgArray([...lastIndex.values()])}::int[]) as p(user_id, ord)
      where u.id = p.user_id`)
    for (const row of assigned) txEvents.publish({ k: 'session', site: row.site_id, session: row.id })
    return assigned.length
  })
}

/** Sites with auto-assignment on and a chat waiting for an agent. */
export async function sitesAwaitingAssignment(db: Executor): Promise<string[]> {
  const rows = await db.execute<{ id: string }>(sql`
    select s.id from sites s
    where s.auto_assign and exists (select 1 from chat_sessions cs where cs.site_id = s.id and cs.status = 'open' and cs.assigned_to is null)`)
  return rows.map((r) => r.id)
}
