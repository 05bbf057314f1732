import { inArray, sql } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { fileDeletions } from '../db/schema.js'
import type { FileStores } from './store.js'

type Due = { id: number; storage: 's3'; key: string; attempts: number }

// a claimed row comes back to the queue after this, should its instance die mid-delete
const LEASE_MS = 60_000
const RETRY_BASE_MS = 5_000
const RETRY_MAX_MS = 60 * 60_000

/**
 * Deletes the files outside Postgres whose attachment rows are gone (a trigger on
 * chat_attachments queues them, whichever code erased the rows): claimed with SKIP LOCKED so
 * that instances share the work, retried with back-off while the store fails. Returns how
 * many files were deleted.
 */
export async function purgeDeletedFiles(db: Executor, stores: FileStores, limit = 100): Promise<number> {
  const due = [...await db.execute<Due>(sql`
    with due as (
      select id from file_deletions where next_attempt_at <= now() order by id limit ${limit} for update skip locked
    )
    update file_deletions f set attempts = f.attempts + 1, next_attempt_at = now() + ${LEASE_MS} * interval '1 millisecond'
    from due where f.id = due.id
    returning f.id, f.storage, f.key, f.attempts`)]
  let deleted = 0
  for (const row of due) {
    const store = stores.byKind[row.storage]
    try {
      if (!store) throw new Error(`${row.storage} is not configured (S3_BUCKET and friends): the file cannot be deleted yet`)
      await store.delete([row.key])
      await db.delete(fileDeletions).where(inArray(fileDeletions.id, [Number(row.id)]))
      deleted++
    } catch (err) {
      const delayMs = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(20, row.attempts - 1))
      await db.update(fileDeletions)
        .set({ nextAttemptAt: sql`now() + ${delayMs} * interval '1 millisecond'`, lastError: err instanceof Error ? err.message : String(err) })
        .where(inArray(fileDeletions.id, [Number(row.id)]))
    }
  }
  return deleted
}
