import { sql } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import type { ErasedSession } from './erasure.js'
import type { Session } from './sessions.js'

/**
 * What the realtime sweep reads every WS_SWEEP_MS while any socket is open: the sessions
 * active or closed lately and the sessions erased lately, in one statement (one pool
 * connection, one round trip per sweep).
 */

/**
 * A session the realtime sweep looks at: its site, lastSeq, status, when it last had a
 * message (or started), and why it is in the window: `active` (a message or its start) and/or
 * a recent close, `closedAt` (null unless within the window; only a close may be recent: its
 * messages were swept while they were).
 */
export type RecentSession = { id: string; siteId: string; lastSeq: number; status: Session['status']; activeAt: Date; active: boolean; closedAt: Date | null }

/** A session erased lately (recent_erasures, filled by a trigger on every session row deleted), and when. */
export type RecentErasure = ErasedSession & { erasedAt: Date }

export type RecentChanges = { sessions: RecentSession[]; erasures: RecentErasure[] }

// the statement's json objects: timestamps come as ISO 8601 text
type RecentSessionRow = { id: string; site_id: string; last_seq: number; status: Session['status']; active_at: string; active: boolean; closed_at: string | null }
type RecentErasureRow = { session_id: string; site_id: string; erased_at: string }

const recentSession = (r: RecentSessionRow): RecentSession => ({
  id: r.id, siteId: r.site_id, lastSeq: r.last_seq, status: r.status, activeAt: new Date(r.active_at), active: r.active, closedAt: r.closed_at === null ? null : new Date(r.closed_at),
})

const recentErasure = (r: RecentErasureRow): RecentErasure => ({ id: r.session_id, siteId: r.site_id, erasedAt: new Date(r.erased_at) })

/**
 * Sessions with a message, a start or a close in the last `withinMs` (Postgres's clock), and
 * sessions erased then. Sessions are found through the messages' and the sessions'
 * creation-time indexes and the recent-closes index: an index on the session's activity would
 * make every send's update of its session a non-HOT one (migration 0011); closed_at is set by
 * a close only (migration 0014). Erasures through recent_erasures' time index.
 */
export async function recentChanges(db: Executor, withinMs: number): Promise<RecentChanges> {
  // now() is the transaction's start: every mention of `since` is the same instant
  const since = sql`now() - make_interval(secs => ${withinMs / 1000})`
  const [row] = await db.execute<{ sessions: RecentSessionRow[]; erasures: RecentErasureRow[] }>(sql`
    select
      (select coalesce(json_agg(r), '[]') from (
        select id, site_id, last_seq, status, coalesce(last_message_at, created_at) as active_at,
          coalesce(last_message_at, created_at) > ${since} as active,
          case when status = 'closed' and closed_at > ${since} then closed_at end as closed_at
        from chat_sessions
        where (id, site_id) in (
            select session_id, site_id from chat_messages where created_at > ${since}
            union select id, site_id from chat_sessions where created_at > ${since}
            union select id, site_id from chat_sessions where status = 'closed' and closed_at > ${since})
          and (coalesce(last_message_at, created_at) > ${since} or (status = 'closed' and closed_at > ${since}))) r) as sessions,
      (select coalesce(json_agg(e), '[]') from (
        select session_id, site_id, erased_at from recent_erasures where erased_at > ${since}) e) as erasures`)
  return { sessions: (row?.sessions ?? []).map(recentSession), erasures: (row?.erasures ?? []).map(recentErasure) }
}
