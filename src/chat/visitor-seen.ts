import { sql } from 'drizzle-orm'
import type { Executor } from '../db/client.js'

/**
 * Records that these sessions' visitors were heard from by now. Called by each instance once
 * per VISITOR_SEEN_FLUSH_MS with every session it heard from since (requests, open widget
 * sockets), so polls cost no write of their own; the time written is the flush's, never
 * earlier than the request, so "seen before T" always means "silent since T".
 */
export async function markVisitorsSeen(db: Executor, sessionIds: string[]): Promise<void> {
  if (sessionIds.length === 0) return
  await db.execute(sql`
    update chat_sessions set visitor_seen_at = greatest(visitor_seen_at, date_trunc('milliseconds', now()))
    where id = any(${`{${sessionIds.join(',')}}`}::uuid[])`)
}
