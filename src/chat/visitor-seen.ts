import { sql } from 'drizzle-orm'
import type { Executor } from '../db/client.js'

// Sessions per statement. A statement holds every row it updated locked until it commits, and
// a message sent to one of them waits that long: 10,000 sockets in one statement held agent
// replies up to ~0.5 s, and 500 a statement still ~40 ms on a busy machine, which put the
// replies that met a flush at the push bench's p99 (bench/push.ts). 50 rows hold it a few ms.
const SEEN_CHUNK = 50

/**
 * Records that these sessions' visitors were heard from by now. Called by each instance once
 * per VISITOR_SEEN_FLUSH_MS with every session it heard from since (requests, open widget
 * sockets), so polls cost no write of their own; the time written is the flush's, never
 * earlier than the request, so "seen before T" always means "silent since T".
 *
 * Each chunk commits without waiting for its WAL flush (synchronous_commit off for that
 * transaction only): its rows' locks are released at once instead of after an fsync, and the
 * flush's fsyncs no longer queue with the messages'. What a database crash can lose is the
 * last flush's times, which leaves them earlier than the truth, as when an instance dies.
 */
export async function markVisitorsSeen(db: Executor, sessionIds: string[]): Promise<void> {
  for (let i = 0; i < sessionIds.length; i += SEEN_CHUNK) {
    // the one-row CTE is evaluated before the update (it is joined), so the setting holds at this statement's commit
    await db.execute(sql`
      with async_commit as (select set_config('synchronous_commit', 'off', true))
      update chat_sessions set visitor_seen_at = greatest(visitor_seen_at, date_trunc('milliseconds', now()))
      from async_commit
      where id = any(${`{${sessionIds.slice(i, i + SEEN_CHUNK).join(',')}}`}::uuid[])`)
  }
}
