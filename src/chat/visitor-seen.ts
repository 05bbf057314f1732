import { sql } from 'drizzle-orm'
import type { Executor } from '../db/client.js'

// sessions per statement: short enough that a send never waits long on its row
const SEEN_CHUNK = 500

/**
 * Records that these sessions' visitors were heard from by now. Called by each instance once
 * per VISITOR_SEEN_FLUSH_MS with every session it heard from since (requests, open widget
 * sockets), so polls cost no write of their own; the time written is the flush's, never
 * earlier than the request, so "seen before T" always means "silent since T".
 */
export async function markVisitorsSeen(db: Executor, sessionIds: string[]): Promise<void> {
  // One statement per chunk, each its own transaction: a statement holds every row it
  // updated locked until it commits, and a message sent to one of them waits that long
  // (10,000 sockets in one statement held agent replies up to ~0.5 s, bench/push.ts).
  for (let i = 0; i < sessionIds.length; i += SEEN_CHUNK) {
    await db.execute(sql`
      update chat_sessions set visitor_seen_at = greatest(visitor_seen_at, date_trunc('milliseconds', now()))
      where id = any(${`{${sessionIds.slice(i, i + SEEN_CHUNK).join(',')}}`}::uuid[])`)
  }
}
