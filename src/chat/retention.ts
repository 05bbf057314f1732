import { sql } from 'drizzle-orm'
import type { Db } from '../db/client.js'
import type { Publisher } from '../realtime/bus.js'
import { deleteExpiredAudit } from './audit.js'
import { deleteOldErasureRecords, eraseSessions, type ErasureStep } from './erasure.js'
import { deleteDeadResumeLinks } from './resume-links.js'
import { deleteFinishedOutbox, deleteOrphanedOutbox } from '../outbox/store.js'
import { deleteOldTelegramLinks } from '../telegram/store.js'
import { deleteOldWebhookUpdateMarks } from '../telegram/updates.js'

/**
 * The retention job's work: sessions closed longer ago than their site's retentionDays are
 * erased with everything of theirs, a batch at a time. A batch's messages are deleted first
 * in chunks, each its own short statement (a closed session gets no new messages), so no
 * transaction holds many rows of chat_messages; then the batch's sessions go through the
 * same erasure as an admin's (webhooks, sockets, dashboards). Audit entries past their time,
 * dead resume links, outbox rows finished long ago (or whose session is gone), old Telegram
 * message links and webhook update marks, and the realtime sweep's old erasure records go too, so no table grows without bound.
 */

export type RetentionResult = { sessions: number; messages: number; auditEntries: number; resumeLinks: number; outboxRows: number; telegramLinks: number }

const MESSAGE_CHUNK = 5000
// rows deleted per statement when pruning: short transactions, whatever the backlog
const PRUNE_CHUNK = 1000

export type RetentionOptions = {
  batchSize: number
  auditMaxDays: number
  /** delivered (or given up) outbox rows and Telegram message links are kept this long */
  deliveredMaxDays: number
  steps?: ErasureStep[]
  onStepError?: (err: unknown) => void
}

/** Runs a chunked delete until a chunk comes back short; the total deleted. */
async function pruneAll(deleteChunk: (chunk: number) => Promise<number>): Promise<number> {
  let total = 0
  for (;;) {
    const n = await deleteChunk(PRUNE_CHUNK)
    total += n
    if (n < PRUNE_CHUNK) return total
  }
}

export async function runRetention(db: Db, events: Publisher, opts: RetentionOptions): Promise<RetentionResult> {
  const result: RetentionResult = { sessions: 0, messages: 0, auditEntries: 0, resumeLinks: 0, outboxRows: 0, telegramLinks: 0 }
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
  result.auditEntries = await pruneAll((chunk) => deleteExpiredAudit(db, opts.auditMaxDays, chunk))
  result.outboxRows = await pruneAll((chunk) => deleteFinishedOutbox(db, opts.deliveredMaxDays, chunk))
    + await pruneAll((chunk) => deleteOrphanedOutbox(db, chunk))
  result.telegramLinks = await pruneAll((chunk) => deleteOldTelegramLinks(db, opts.deliveredMaxDays, chunk))
  await pruneAll((chunk) => deleteOldWebhookUpdateMarks(db, chunk))
  result.resumeLinks = await deleteDeadResumeLinks(db)
  await pruneAll((chunk) => deleteOldErasureRecords(db, chunk))
  return result
}
