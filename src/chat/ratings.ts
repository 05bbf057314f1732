import { and, eq, sql } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { chatSessions } from '../db/schema.js'
import { conflict, notFound, validationError } from './errors.js'
import { isUuid } from './ids.js'
import type { Publisher } from '../realtime/bus.js'
import type { Session } from './sessions.js'

/** The visitor's rating after a chat (CSAT): 1–5 stars and an optional comment, given once. */

export type Rating = { score: number; comment: string | null; createdAt: Date }

export const MAX_RATING_COMMENT_CHARS = 1000

export function ratingOf(s: Pick<Session, 'ratingScore' | 'ratingComment' | 'ratedAt'>): Rating | null {
  return s.ratingScore === null || s.ratedAt === null ? null : { score: s.ratingScore, comment: s.ratingComment, createdAt: s.ratedAt }
}

/**
 * Stores the rating of a closed session of this site, once: the row is only written while it
 * is closed and unrated, so two concurrent ratings cannot both succeed. 409 for an open or an
 * already rated session.
 */
export async function rateSession(db: Executor, events: Publisher, siteId: string, sessionId: string, input: { score: number; comment?: string | null }): Promise<Rating> {
  if (!isUuid(sessionId)) throw notFound('Session')
  const comment = input.comment?.trim() || null
  if (comment !== null && Array.from(comment).length > MAX_RATING_COMMENT_CHARS) {
    throw validationError(`comment must be at most ${MAX_RATING_COMMENT_CHARS} characters`, [{ field: 'comment', location: 'body', message: 'comment is too long' }])
  }
  const [rated] = await db.update(chatSessions)
    .set({ ratingScore: input.score, ratingComment: comment, ratedAt: sql`date_trunc('milliseconds', now())`, updatedAt: sql`now()` })
    .where(and(eq(chatSessions.id, sessionId), eq(chatSessions.siteId, siteId), eq(chatSessions.status, 'closed'), sql`${chatSessions.ratedAt} is null`))
    .returning()
  if (rated) {
    events.publish({ k: 'session', site: siteId, session: rated.id })
    const rating = ratingOf(rated)
    if (rating) return rating
  }
  const [current] = await db.select({ status: chatSessions.status }).from(chatSessions).where(and(eq(chatSessions.id, sessionId), eq(chatSessions.siteId, siteId)))
  if (!current) throw notFound('Session')
  throw conflict(current.status === 'open' ? 'The chat is still open: rate it once it is closed' : 'This chat has been rated already')
}
