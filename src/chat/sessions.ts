import { createHmac } from 'node:crypto'
import { and, desc, eq, gte, lt, or, sql, type SQL } from 'drizzle-orm'
import type { Db, Executor } from '../db/client.js'
import { chatMessages, chatSessions } from '../db/schema.js'
import { notFound } from './errors.js'
import { isUuid } from './ids.js'
import { notify } from './events.js'
import { assertMessageText, listMessages, messageColumns, messageFromRow, sendMessage, type Message } from './messages.js'
import { randomToken, sameHash } from './secrets.js'
import { appendBotMessages, newSessionReplies } from './bot.js'
import { enqueueSessionEvent } from '../outbox/enqueue.js'
import type { Site } from './sites.js'

export type Session = typeof chatSessions.$inferSelect

export type PublicSessionView = Pick<Session, 'id' | 'userSessionId' | 'status' | 'name' | 'phone' | 'createdAt' | 'lastSeq'>

export function publicSessionView(s: Session): PublicSessionView {
  return { id: s.id, userSessionId: s.userSessionId, status: s.status, name: s.name, phone: s.phone, createdAt: s.createdAt, lastSeq: s.lastSeq }
}

export type AdminSessionView = PublicSessionView & Pick<Session,
  'email' | 'pageUrl' | 'locale' | 'siteId' | 'lastMessageAt' | 'unreadCount' | 'assignedTo' | 'closedAt' | 'firstResponseAt' | 'updatedAt'
> & { lastMessage: Message | null }

export function adminSessionView(s: Session, lastMessage: Message | null): AdminSessionView {
  return {
    ...publicSessionView(s),
    email: s.email,
    pageUrl: s.pageUrl,
    locale: s.locale,
    siteId: s.siteId,
    lastMessage,
    lastMessageAt: s.lastMessageAt,
    unreadCount: s.unreadCount,
    assignedTo: s.assignedTo,
    closedAt: s.closedAt,
    firstResponseAt: s.firstResponseAt,
    updatedAt: s.updatedAt,
  }
}

/**
 * Session tokens are derived (HMAC of the session id under a server secret kept in the
 * database), not stored: resuming returns the same token, so other tabs holding it keep
 * working, and a leaked table row reveals nothing that opens a session.
 */
export function sessionToken(secret: string, sessionId: string): string {
  return 'st_' + createHmac('sha256', secret).update(sessionId).digest('base64url')
}

export function sessionTokenMatches(secret: string, sessionId: string, token: string): boolean {
  return sameHash(sessionToken(secret, sessionId), token)
}

export type ContactDetails = { name?: string; phone?: string; email?: string }

export type StartInput = ContactDetails & {
  userSessionId?: string
  firstMessage?: string
  pageUrl?: string
  locale?: string
  userAgent?: string
}

export type StartResult = { session: Session; created: boolean; messages: Message[] }

export async function getSession(db: Executor, id: string): Promise<Session> {
  const [s] = isUuid(id) ? await db.select().from(chatSessions).where(eq(chatSessions.id, id)) : []
  if (!s) throw notFound('Session')
  return s
}

/** A session of this site only: another site's session is reported as missing. */
export async function getSiteSession(db: Executor, siteId: string, id: string): Promise<Session> {
  const [s] = isUuid(id) ? await db.select().from(chatSessions).where(and(eq(chatSessions.id, id), eq(chatSessions.siteId, siteId))) : []
  if (!s) throw notFound('Session')
  return s
}

async function findOpenSession(db: Executor, siteId: string, userSessionId: string): Promise<Session | undefined> {
  const [s] = await db.select().from(chatSessions)
    .where(and(eq(chatSessions.siteId, siteId), eq(chatSessions.userSessionId, userSessionId), eq(chatSessions.status, 'open')))
  return s
}

function contactPatch(input: StartInput): Partial<Session> {
  const patch: Partial<Session> = {}
  if (input.name !== undefined) patch.name = input.name
  if (input.phone !== undefined) patch.phone = input.phone
  if (input.email !== undefined) patch.email = input.email
  return patch
}

async function resume(tx: Executor, site: Site, existing: Session, input: StartInput): Promise<StartResult> {
  const patch = contactPatch(input)
  const changed = (Object.keys(patch) as (keyof Session)[]).some((k) => patch[k] !== existing[k])
  let session = existing
  if (changed) {
    const [updated] = await tx.update(chatSessions).set({ ...patch, updatedAt: sql`now()` }).where(eq(chatSessions.id, existing.id)).returning()
    if (updated) session = updated
    await notify(tx, { k: 'session', site: site.id, session: session.id })
    await enqueueSessionEvent(tx, session, 'contact.updated', { name: session.name, phone: session.phone, email: session.email })
  }
  if (input.firstMessage !== undefined) {
    await sendMessage(tx, { sessionId: session.id, sender: 'visitor', text: input.firstMessage })
    session = await getSession(tx, session.id)
  }
  return { session, created: false, messages: await listMessages(tx, session.id) }
}

function isOpenVisitorConflict(err: unknown): boolean {
  const e = err as { code?: string; constraint_name?: string; cause?: unknown }
  return (e?.code === '23505' && e.constraint_name === 'chat_sessions_open_visitor_uq') || (e?.cause !== undefined && isOpenVisitorConflict(e.cause))
}

/**
 * The seed's "create or get": the site's open session for this userSessionId, with contact
 * details updated and firstMessage appended, or a new session (firstMessage as seq 1, then
 * the bot's greeting and out-of-hours note, judged at `now`).
 */
export async function startSession(db: Db, site: Site, input: StartInput, now: Date = new Date()): Promise<StartResult> {
  if (input.firstMessage !== undefined) assertMessageText(input.firstMessage, 'firstMessage')
  const userSessionId = input.userSessionId ?? randomToken('', 18)
  for (let attempt = 0; ; attempt++) {
    try {
      return await db.transaction(async (tx) => {
        const existing = await findOpenSession(tx, site.id, userSessionId)
        if (existing) return resume(tx, site, existing, input)
        const [created] = await tx.insert(chatSessions).values({
          siteId: site.id,
          userSessionId,
          ...contactPatch(input),
          pageUrl: input.pageUrl ?? null,
          locale: input.locale ?? null,
          userAgent: input.userAgent ?? null,
        }).returning()
        if (!created) throw new Error('session insert returned nothing')
        await notify(tx, { k: 'session', site: site.id, session: created.id, created: true })
        const { name, phone, email, pageUrl, locale } = created
        await enqueueSessionEvent(tx, created, 'session.created', { name, phone, email, pageUrl, locale, firstMessage: input.firstMessage ?? null })
        if (input.firstMessage !== undefined) {
          // the Telegram card above already quotes it
          await sendMessage(tx, { sessionId: created.id, sender: 'visitor', text: input.firstMessage, forwardToTelegram: false })
        }
        const botReplies = newSessionReplies(site.bot, now)
        await appendBotMessages(tx, created.id, site.bot, botReplies)
        const appended = input.firstMessage !== undefined || botReplies.length > 0
        const session = appended ? await getSession(tx, created.id) : created
        return { session, created: true, messages: await listMessages(tx, session.id) }
      })
    } catch (err) {
      // two first requests of one visitor raced; the loser resumes the winner's session
      if (attempt === 0 && isOpenVisitorConflict(err)) continue
      throw err
    }
  }
}

export async function markSessionRead(db: Executor, id: string): Promise<Session> {
  if (!isUuid(id)) throw notFound('Session')
  const [s] = await db.update(chatSessions).set({ unreadCount: 0, updatedAt: sql`now()` }).where(eq(chatSessions.id, id)).returning()
  if (!s) throw notFound('Session')
  await notify(db, { k: 'session', site: s.siteId, session: s.id })
  return s
}

/** Closing a closed session changes nothing and is not an error. */
export async function closeSession(db: Executor, id: string): Promise<Session> {
  if (!isUuid(id)) throw notFound('Session')
  const closed = await db.transaction(async (tx) => {
    const [row] = await tx.update(chatSessions)
      .set({ status: 'closed', closedAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(chatSessions.id, id), eq(chatSessions.status, 'open'))).returning()
    if (row) {
      await notify(tx, { k: 'session', site: row.siteId, session: row.id })
      await enqueueSessionEvent(tx, row, 'session.closed')
    }
    return row
  })
  return closed ?? getSession(db, id)
}

export type SessionFilters = {
  status?: 'open' | 'closed' | 'all'
  search?: string
  siteId?: string
  from?: Date
  to?: Date
  unread?: boolean
  page: number
  limit: number
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => '\\' + c)

export async function listSessions(db: Executor, f: SessionFilters): Promise<{ sessions: AdminSessionView[]; total: number }> {
  const where: SQL[] = []
  if (f.status && f.status !== 'all') where.push(eq(chatSessions.status, f.status))
  if (f.siteId) where.push(eq(chatSessions.siteId, f.siteId))
  if (f.from) where.push(gte(chatSessions.createdAt, f.from))
  if (f.to) where.push(lt(chatSessions.createdAt, f.to))
  if (f.unread) where.push(sql`${chatSessions.unreadCount} > 0`)
  if (f.search) {
    const pattern = `%${escapeLike(f.search)}%`
    const inContact = or(
      sql`${chatSessions.name} ilike ${pattern}`,
      sql`${chatSessions.phone} ilike ${pattern}`,
      sql`${chatSessions.email} ilike ${pattern}`,
    )
    const inMessages = sql`exists (select 1 from ${chatMessages} m where m.session_id = ${chatSessions.id} and m.text ilike ${pattern})`
    where.push(sql`(${inContact} or ${inMessages})`)
  }
  const condition = where.length ? and(...where) : undefined
  const [countRow] = await db.select({ total: sql<number>`count(*)::int` }).from(chatSessions).where(condition)
  const rows = await db.select({ session: chatSessions, last: messageColumns }).from(chatSessions)
    .leftJoin(chatMessages, and(eq(chatMessages.sessionId, chatSessions.id), eq(chatMessages.seq, chatSessions.lastSeq)))
    .where(condition)
    .orderBy(desc(sql`coalesce(${chatSessions.lastMessageAt}, ${chatSessions.createdAt})`), desc(chatSessions.id))
    .limit(f.limit).offset((f.page - 1) * f.limit)
  return { sessions: rows.map((r) => adminSessionView(r.session, r.last && messageFromRow(r.last))), total: countRow?.total ?? 0 }
}

export async function getAdminSession(db: Executor, id: string): Promise<AdminSessionView> {
  const session = await getSession(db, id)
  const [last] = session.lastSeq > 0 ? await listMessages(db, id, { after: session.lastSeq - 1 }) : []
  return adminSessionView(session, last ?? null)
}

/** Sessions with a message or a start in the last `withinMs` (Postgres's clock), with their lastSeq. */
export async function recentlyActiveSessions(db: Executor, withinMs: number): Promise<{ id: string; lastSeq: number }[]> {
  return db.select({ id: chatSessions.id, lastSeq: chatSessions.lastSeq }).from(chatSessions)
    .where(sql`coalesce(${chatSessions.lastMessageAt}, ${chatSessions.createdAt}) > now() - make_interval(secs => ${withinMs / 1000})`)
}

/** Assigns the session to an agent (or nobody); the dashboards see it as a session update. */
export async function assignSession(db: Executor, id: string, userId: string | null): Promise<Session> {
  const [s] = await db.update(chatSessions).set({ assignedTo: userId, updatedAt: sql`now()` }).where(eq(chatSessions.id, id)).returning()
  if (!s) throw notFound('Session')
  await notify(db, { k: 'session', site: s.siteId, session: s.id })
  return s
}
