import { eq, sql } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { chatSessions } from '../db/schema.js'
import { validationError } from './errors.js'
import { LABEL_PATTERN } from './label-pattern.js'
import type { Publisher } from '../realtime/bus.js'
import type { Session } from './sessions.js'
import { getVisibleSession, scopeCondition, visibleSites, type Viewer } from './visibility.js'

/** Labels on conversations: 1–32 letters, digits, `_` or `-`, case-insensitive (stored lower-case), at most 20 a session. */

export const MAX_LABELS = 20
const LABEL_RE = new RegExp(LABEL_PATTERN, 'u')

/**
 * Lower-cased, unique, sorted; a label that breaks the rules is a 400 naming it. The rules hold
 * for the lower-case form, what is stored: 'İ' lower-cases to 'i' + U+0307 (not a letter), and a
 * label stored with it could be neither sent back nor filtered on.
 */
export function normaliseLabels(labels: readonly string[]): string[] {
  const bad = labels.filter((l) => !LABEL_RE.test(normaliseLabel(l)))
  if (bad.length) {
    throw validationError(`labels must be 1–32 letters, digits, _ or -: ${bad.map((l) => JSON.stringify(l)).join(', ')}`, bad.map((l) => ({ field: 'labels', message: `invalid label ${JSON.stringify(l)}` })))
  }
  const unique = [...new Set(labels.map(normaliseLabel))].sort()
  if (unique.length > MAX_LABELS) throw validationError(`at most ${MAX_LABELS} labels`, [{ field: 'labels', message: 'too many labels' }])
  return unique
}

export const normaliseLabel = (label: string) => label.toLowerCase()

/** Replaces the session's labels; the dashboards see a session update. */
export async function setLabels(db: Executor, events: Publisher, viewer: Viewer, sessionId: string, labels: readonly string[]): Promise<Session> {
  const normalised = normaliseLabels(labels)
  const session = await getVisibleSession(db, viewer, sessionId)
  if (normalised.join('\n') === session.labels.join('\n')) return session
  const [updated] = await db.update(chatSessions)
    .set({ labels: normalised, updatedAt: sql`now()` }).where(eq(chatSessions.id, session.id)).returning()
  if (!updated) throw new Error('the session vanished while being labelled')
  events.publish({ k: 'session', site: updated.siteId, session: updated.id })
  return updated
}

export const MAX_LABELS_IN_USE = 500

/** Labels on the sessions the viewer sees, most used first (the dashboard's suggestions and filter). */
export async function labelsInUse(db: Executor, viewer: Viewer): Promise<{ name: string; count: number }[]> {
  const rows = await db.execute<{ name: string; count: number }>(sql`
    select l as name, count(*)::int as count
    from chat_sessions cs cross join lateral unnest(cs.labels) l
    where ${scopeCondition(visibleSites(viewer), sql`cs.site_id`)}
    group by l order by count(*) desc, l limit ${MAX_LABELS_IN_USE}`)
  return [...rows]
}
