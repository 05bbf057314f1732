import { and, desc, eq, sql } from 'drizzle-orm'
import type { Db, Executor } from '../db/client.js'
import { preparedQuery } from '../db/prepared.js'
import { chatSessions } from '../db/schema.js'
import { unauthorized } from './errors.js'
import { assertMessageText, listMessages, sendMessage, type Message } from './messages.js'
import { randomToken } from './secrets.js'
import { appendBotMessages, newSessionReplies } from './bot.js'
import { enqueueSessionEvent } from '../outbox/enqueue.js'
import type { Publisher } from '../realtime/bus.js'
import { getSession, type Session } from './sessions.js'
import type { Site } from './sites.js'
import { transaction } from './transaction.js'

export type ContactDetails = { name?: string; phone?: string; email?: string }

export type StartInput = ContactDetails & {
  userSessionId?: string
  firstMessage?: string
  pageUrl?: string
  locale?: string
  userAgent?: string
}

export type StartResult = { session: Session; created: boolean; messages: Message[] }

/** Whether the request proves it owns this session (its token, or the site's secret). */
export type Ownership = (sessionId: string) => boolean

const proofNeeded = () =>
  unauthorized('This userSessionId belongs to a conversation: resuming it needs its X-Session-Token (or the site\'s X-API-Secret)')

/** The newest closed sessions of a visitor id (a visitor rarely has more than a few). */
async function closedSessionIds(db: Executor, siteId: string, userSessionId: string): Promise<string[]> {
  const rows = await db.select({ id: chatSessions.id }).from(chatSessions)
    .where(and(eq(chatSessions.siteId, siteId), eq(chatSessions.userSessionId, userSessionId), eq(chatSessions.status, 'closed')))
    .orderBy(desc(chatSessions.createdAt)).limit(MAX_CLOSED_CHECKED)
  return rows.map((r) => r.id)
}

const openSessionQuery = preparedQuery<'siteId' | 'userSessionId', Session[]>('open_session', (db) => db.select().from(chatSessions)
  .where(and(eq(chatSessions.siteId, sql.placeholder('siteId')), eq(chatSessions.userSessionId, sql.placeholder('userSessionId')), eq(chatSessions.status, 'open'))))

async function findOpenSession(db: Executor, siteId: string, userSessionId: string): Promise<Session | undefined> {
  const [s] = await openSessionQuery(db, { siteId, userSessionId })
  return s
}

function contactPatch(input: StartInput): Partial<Session> {
  const patch: Partial<Session> = {}
  if (input.name !== undefined) patch.name = input.name
  if (input.phone !== undefined) patch.phone = input.phone
  if (input.email !== undefined) patch.email = input.email
  return patch
}

const contactChanged = (patch: Partial<Session>, existing: Session) => (Object.keys(patch) as (keyof Session)[]).some((k) => patch[k] !== existing[k])

async function resume(tx: Executor, events: Publisher, site: Site, existing: Session, input: StartInput): Promise<StartResult> {
  const patch = contactPatch(input)
  let session = existing
  if (contactChanged(patch, existing)) {
    const [updated] = await tx.update(chatSessions).set({ ...patch, updatedAt: sql`now()` }).where(eq(chatSessions.id, existing.id)).returning()
    if (updated) session = updated
    events.publish({ k: 'session', site: site.id, session: session.id })
    await enqueueSessionEvent(tx, session, 'contact.updated', { name: session.name, phone: session.phone, email: session.email })
  }
  if (input.firstMessage !== undefined) {
    await sendMessage(tx, events, { sessionId: session.id, sender: 'visitor', text: input.firstMessage })
    session = await getSession(tx, session.id)
  }
  return { session, created: false, messages: await listMessages(tx, session.id) }
}

function isOpenVisitorConflict(err: unknown): boolean {
  const e = err as { code?: string; constraint_name?: string; cause?: unknown }
  return (e?.code === '23505' && e.constraint_name === 'chat_sessions_open_visitor_uq') || (e?.cause !== undefined && isOpenVisitorConflict(e.cause))
}

// a token of an older closed conversation than these does not prove the visitor id any more
const MAX_CLOSED_CHECKED = 20

/**
 * The seed's "create or get": the site's open session for this userSessionId, with contact
 * details updated and firstMessage appended, or a new session (firstMessage as seq 1, then
 * the bot's greeting and out-of-hours note, judged at `now`).
 *
 * A userSessionId is no secret (ids like `visitor-0001` are guessable, and webhooks carry
 * them), so a session of it is only resumed, or followed by a new one, for a request that
 * `owns` it: 401 otherwise, before anything is read out or changed.
 */
export async function startSession(db: Db, events: Publisher, site: Site, input: StartInput, owns: Ownership, now: Date = new Date()): Promise<StartResult> {
  if (input.firstMessage !== undefined) assertMessageText(input.firstMessage, 'firstMessage')
  // Every page load of a visitor with a conversation resumes it with nothing to change: that only
  // reads, so it runs as two prepared reads on the pool instead of a transaction of query builds
  // (the transaction is read committed: each of its statements saw its own snapshot too).
  if (input.userSessionId !== undefined && input.firstMessage === undefined) {
    const existing = await findOpenSession(db, site.id, input.userSessionId)
    if (existing && !contactChanged(contactPatch(input), existing)) {
      if (!owns(existing.id)) throw proofNeeded()
      return { session: existing, created: false, messages: await listMessages(db, existing.id, { after: 0 }) }
    }
  }
  const userSessionId = input.userSessionId ?? randomToken('', 18)
  for (let attempt = 0; ; attempt++) {
    try {
      return await transaction(db, events, async (tx, txEvents) => {
        const existing = await findOpenSession(tx, site.id, userSessionId)
        if (existing) {
          if (!owns(existing.id)) throw proofNeeded()
          return resume(tx, txEvents, site, existing, input)
        }
        if (input.userSessionId !== undefined) {
          const closed = await closedSessionIds(tx, site.id, userSessionId)
          if (closed.length > 0 && !closed.some(owns)) throw proofNeeded()
        }
        const [created] = await tx.insert(chatSessions).values({
          siteId: site.id,
          userSessionId,
          ...contactPatch(input),
          pageUrl: input.pageUrl ?? null,
          locale: input.locale ?? null,
          userAgent: input.userAgent ?? null,
        }).returning()
        if (!created) throw new Error('session insert returned nothing')
        txEvents.publish({ k: 'session', site: site.id, session: created.id, created: true })
        const { name, phone, email, pageUrl, locale } = created
        await enqueueSessionEvent(tx, created, 'session.created', { name, phone, email, pageUrl, locale, firstMessage: input.firstMessage ?? null })
        if (input.firstMessage !== undefined) {
          // the Telegram card above already quotes it
          await sendMessage(tx, txEvents, { sessionId: created.id, sender: 'visitor', text: input.firstMessage, forwardToTelegram: false })
        }
        const botReplies = newSessionReplies(site.bot, now)
        await appendBotMessages(tx, txEvents, created.id, site.bot, botReplies)
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
