import { and, desc, eq, inArray, lt, sql, type SQL } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { auditLog } from '../db/schema.js'

/**
 * The audit log: who did what, when. Action names are dotted, `<object>.<verb>`:
 * user.login, user.created, user.updated, site.created, site.updated,
 * site.secret_rotated, webhook.created, webhook.deleted, session.assigned, session.erased,
 * visitor.erased, session.exported, sessions.exported, retention.erased.
 * Details say what changed (field names, counts), never a visitor's contact data or message text.
 */

export type AuditActor = { id: string; name: string } | null

export type AuditInput = {
  actor: AuditActor
  action: string
  target?: string | null
  siteId?: string | null
  details?: Record<string, unknown>
}

export type AuditEntry = { id: number; at: Date; actor: AuditActor; action: string; target: string | null; details: Record<string, unknown> }

export async function recordAudit(db: Executor, e: AuditInput): Promise<void> {
  await db.insert(auditLog).values({
    actorId: e.actor?.id ?? null,
    actorName: e.actor?.name ?? null,
    action: e.action,
    target: e.target ?? null,
    siteId: e.siteId ?? null,
    details: e.details ?? {},
  })
}

export type AuditQuery = { limit: number; beforeId?: number; beforeAt?: Date; action?: string }

/** Newest first; `beforeId` (an entry's id) or `beforeAt` (a time) page back. */
export async function listAudit(db: Executor, q: AuditQuery): Promise<AuditEntry[]> {
  const where: SQL[] = []
  if (q.beforeId !== undefined) where.push(lt(auditLog.id, q.beforeId))
  if (q.beforeAt !== undefined) where.push(lt(auditLog.at, q.beforeAt))
  if (q.action !== undefined) where.push(eq(auditLog.action, q.action))
  const rows = await db.select().from(auditLog).where(and(...where)).orderBy(desc(auditLog.id)).limit(q.limit)
  return rows.map((r) => ({
    id: r.id,
    at: r.at,
    actor: r.actorId || r.actorName ? { id: r.actorId ?? '', name: r.actorName ?? '' } : null,
    action: r.action,
    target: r.target,
    details: r.details,
  }))
}

/** Erasing sessions also clears what earlier entries about them said (the entries themselves stay). */
export async function scrubAuditDetails(db: Executor, sessionIds: string[]): Promise<void> {
  if (sessionIds.length === 0) return
  await db.update(auditLog).set({ details: sql`'{}'::jsonb` }).where(inArray(auditLog.target, sessionIds))
}

/**
 * Deletes entries past their time: those of a site with retentionDays after that many days,
 * every entry after `maxDays`. At most `batch` per call, so the caller can loop in short transactions.
 */
export async function deleteExpiredAudit(db: Executor, maxDays: number, batch: number): Promise<number> {
  const rows = await db.execute(sql`
    delete from audit_log where id in (
      select a.id from audit_log a left join sites s on s.id = a.site_id
      where a.at < now() - make_interval(days => ${maxDays})
         or (s.retention_days is not null and a.at < now() - make_interval(days => s.retention_days))
      limit ${batch})
    returning 1`)
  return rows.length
}
