import { and, eq, sql, type SQL } from 'drizzle-orm'
import type { AnyPgColumn } from 'drizzle-orm/pg-core'
import type { Executor } from '../db/client.js'
import { chatSessions } from '../db/schema.js'
import { notFound } from './errors.js'
import { isUuid } from './ids.js'
import type { Session } from './sessions.js'
import type { User } from './users.js'

/**
 * Which sessions a user may see, decided here and only here. The list, detail, every write
 * on a session (reply, read, close, assign, notes, labels), stats, search, canned responses
 * and the dashboard socket's fan-out all ask `visibleSites`, through the helpers below.
 *
 * A user works on the sites in `siteIds`, or on every site when it is null. An agent sees
 * the sessions of the sites they work on; an admin sees every session (their `siteIds` only
 * decide where they count as available and can be assigned). Another site's session is
 * reported as missing (404), exactly as if it did not exist.
 */

/** Site ids, or null for every site. */
export type SiteScope = readonly string[] | null

export type Viewer = Pick<User, 'role' | 'siteIds'>

/** The one decision: the sites whose sessions this user may see. */
export function visibleSites(viewer: Viewer): SiteScope {
  return viewer.role === 'admin' ? null : viewer.siteIds
}

export const inScope = (scope: SiteScope, siteId: string): boolean => scope === null || scope.includes(siteId)

export const canSee = (viewer: Viewer, siteId: string): boolean => inScope(visibleSites(viewer), siteId)

/** Whether the user takes this site's chats: counts as its available agent, may be assigned them. */
export const worksOn = (user: Pick<User, 'siteIds'>, siteId: string): boolean => inScope(user.siteIds, siteId)

/** A Postgres array literal of validated ids, so a scope is one parameter whatever its length. */
const idArray = (ids: readonly string[]) => `{${ids.filter(isUuid).join(',')}}`

/** SQL that holds for a `siteColumn` within the scope (raw SQL or a drizzle column). */
export function scopeCondition(scope: SiteScope, siteColumn: SQL | AnyPgColumn): SQL {
  return scope === null ? sql`true` : sql`${siteColumn} = any(${idArray(scope)}::uuid[])`
}

/** The session when the viewer may see it; 404 otherwise, as for a missing one. */
export async function getVisibleSession(db: Executor, viewer: Viewer, id: string): Promise<Session> {
  const [s] = isUuid(id)
    ? await db.select().from(chatSessions).where(and(eq(chatSessions.id, id), scopeCondition(visibleSites(viewer), chatSessions.siteId)))
    : []
  if (!s) throw notFound('Session')
  return s
}

/** SQL over `users`: the user works on this site (the SQL twin of worksOn). */
export function worksOnCondition(siteId: string, siteIdsColumn: AnyPgColumn): SQL {
  return sql`(${siteIdsColumn} is null or ${siteId}::uuid = any(${siteIdsColumn}))`
}
