import { sql } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { resumeLinks } from '../db/schema.js'
import { hashToken, randomToken } from './secrets.js'
import { isUuid } from './ids.js'
import type { Site } from './sites.js'

/**
 * The link in an offline email reopens the conversation in any browser. It carries a random
 * token, stored hashed, that can be redeemed once before it expires for the session's own
 * token (POST /api/public/chat/resume); a forwarded or leaked email opens nothing once used.
 */

/** The URL fragment the widget looks for on the page: `#chat_resume=<token>`. */
export const RESUME_FRAGMENT = 'chat_resume'

export async function createResumeLink(db: Executor, session: { siteId: string; sessionId: string }, ttlMs: number): Promise<string> {
  const token = randomToken('rl_', 24)
  await db.insert(resumeLinks).values({ tokenHash: hashToken(token), ...session, expiresAt: sql`now() + ${ttlMs} * interval '1 millisecond'` })
  return token
}

/** The session id the token opens (of this site), using the token up; undefined when unknown, used, expired or another site's. */
export async function redeemResumeLink(db: Executor, siteId: string, token: string): Promise<string | undefined> {
  const rows = await db.execute<{ session_id: string }>(sql`
    update resume_links l set used_at = now()
    from chat_sessions s
    where l.token_hash = ${hashToken(token)} and l.site_id = ${siteId} and l.used_at is null and l.expires_at > now()
      and s.id = l.session_id and s.site_id = l.site_id
    returning l.session_id`)
  const id = rows[0]?.session_id
  return id && isUuid(id) ? id : undefined
}

/** Removes links that can no longer be used (the retention job's chore). */
export async function deleteDeadResumeLinks(db: Executor): Promise<number> {
  const rows = await db.execute(sql`delete from resume_links where expires_at < now() - interval '1 day' or used_at < now() - interval '1 day' returning 1`)
  return rows.length
}

/**
 * Where the link takes the visitor: the page the conversation started on when it belongs to
 * the site (one of its origins), else the site's first origin; undefined when the site allows
 * any origin and the page is unknown. A visitor-supplied page of another origin is never used.
 */
export function resumeUrl(site: Pick<Site, 'origins'>, pageUrl: string | null, token: string): string | undefined {
  const origins = site.origins.filter((o) => o !== '*')
  let base: URL | undefined
  try {
    const page = pageUrl ? new URL(pageUrl) : undefined
    if (page && /^https?:$/.test(page.protocol) && (site.origins.includes('*') || origins.includes(page.origin))) base = page
  } catch {
    // not a URL: fall back to the site's origin
  }
  if (!base && origins[0]) base = new URL(origins[0])
  if (!base) return undefined
  base.hash = `${RESUME_FRAGMENT}=${token}`
  return base.toString()
}
