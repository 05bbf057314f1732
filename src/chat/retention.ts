import { sql } from 'drizzle-orm'
import type { Db } from '../db/client.js'
import type { Publisher } from '../realtime/bus.js'
import { deleteExpiredAudit } from './audit.js'
import { eraseSessions, type ErasureStep } from './erasure.js'
import { deleteDeadResumeLinks } from './resume-links.js'

/**
 * The retention job's work: sessions closed longer ago than their site's retentionDays are
 * erased with everything of theirs, a batch at a time. A batch's messages are deleted first
 * in chunks, each its own short statement (a closed session gets no new messages), so no
 * transaction holds many rows of chat_messages; then the batch's sessions go through the
 * same erasure as an admin's (webhooks, sockets, dashboards). Audit entries past their time
 * and dead resume links go too.
 */

export type RetentionResult = { sessions: number; messages: number; auditEntries: number; resumeLinks: number }

const MESSAGE_CHUNK = 5000

export type RetentionOptions = { batchSize: number; auditMaxDays: number; steps?: ErasureStep[]; onStepError?: (err: unknown) => void }

export async function runRetention(db: Db, events: Publisher, opts: RetentionOptions): Promise<RetentionResult> {
  const result: RetentionResult = { sessions: 0, messages: 0, auditEntries: 0, resumeLinks: 0 }
  for (;;) {
    const due = await db.execute<{ id: string }>(sql`
      select cs.id from chat_sessions cs join sites s on s.id = cs.site_id
      where s.retention_days is not null and cs.status = 'closed'
        and cs.closed_at < now() - make_interval(days => s.retention_days)
      limit ${opts.batchSize}`)
    if (due.length === 0) break
    const ids = `{${due.map((r) => r.id).join(',')}}`
    for (;;) {
      const deleted = await db.execute(sql`
        delete from chat_messages where ctid = any(array(
          select ctid from chat_messages where session_id = any(${ids}::uuid[]) limit ${MESSAGE_CHUNK}))
        returning 1`)
      result.messages += deleted.length
      if (deleted.length < MESSAGE_CHUNK) break
    }
    const erased = await eraseSessions(db, events, due.map((r) => r.id), { steps: opts.steps, onStepError: opts.onStepError })
    result.sessions += erased.length
    if (erased.length === 0) break
  }
  for (;;) {
    const n = await deleteExpiredAudit(db, opts.auditMaxDays, 1000)
    result.auditEntries += n
    if (n < 1000) break
  }
  result.resumeLinks = await deleteDeadResumeLinks(db)
  return result
}
