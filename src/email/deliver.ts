import { eq, sql } from 'drizzle-orm'
import type { Db } from '../db/client.js'
import { chatSessions } from '../db/schema.js'
import { listMessages, type Message } from '../chat/messages.js'
import { createResumeLink, resumeUrl } from '../chat/resume-links.js'
import { getSession, type Session } from '../chat/sessions.js'
import { getSite, type Site } from '../chat/sites.js'
import { OFFLINE_REPLIES, TRANSCRIPT } from '../outbox/enqueue.js'
import type { OutboxRow } from '../outbox/store.js'
import { DeliveryError, type Deliver } from '../outbox/worker.js'
import { offlineRepliesEmail, transcriptEmail, type Composed } from './compose.js'
import { senderAddress, type Mailer } from './mailer.js'

export type EmailDeps = {
  db: Db
  /** undefined when SMTP_URL is not set: email rows fail at once, saying so */
  mailer: Mailer | undefined
  emailFrom: string
  publicUrl: string
  linkTtlMs: number
  /** the token of a session's unsubscribe link (derived, like session tokens) */
  unsubscribeToken: (sessionId: string) => string
}

const DAY_MS = 86_400_000

export const unsubscribeUrl = (publicUrl: string, sessionId: string, token: string) =>
  `${publicUrl}/api/public/chat/sessions/${sessionId}/unsubscribe?token=${encodeURIComponent(token)}`

async function markEmailed(db: Db, sessionId: string, seq: number): Promise<void> {
  await db.update(chatSessions).set({ emailedSeq: sql`greatest(${chatSessions.emailedSeq}, ${seq})` }).where(eq(chatSessions.id, sessionId))
}

/**
 * The agent replies of an offline email: not emailed yet and written after the visitor was
 * last heard from (what they saw in the widget is not sent again).
 */
function missedReplies(session: Session, messages: Message[]): Message[] {
  const seen = session.visitorSeenAt?.getTime() ?? 0
  return messages.filter((m) => m.sender === 'agent' && m.createdAt.getTime() > seen)
}

/** Sends the outbox's email rows: offline replies and transcripts, composed from the rows as they are now. */
export function emailDeliverer(deps: EmailDeps): Deliver {
  const { db } = deps

  async function send(site: Site, session: Session, row: OutboxRow, compose: (unsubscribe: string) => Composed): Promise<void> {
    if (!deps.mailer) throw new DeliveryError('email is not configured (SMTP_URL)', true)
    if (!session.email) throw new DeliveryError('the session has no email address', true)
    const unsubscribe = unsubscribeUrl(deps.publicUrl, session.id, deps.unsubscribeToken(session.id))
    const mail = compose(unsubscribe)
    await deps.mailer.send({ ...mail, from: { name: site.name, address: senderAddress(deps.emailFrom) }, to: session.email, unsubscribeUrl: unsubscribe, id: row.eventId })
  }

  return async (row) => {
    if (!row.sessionId) throw new DeliveryError('email row without a session', true)
    // an erased session takes its rows with it; one erased between claim and here is simply gone
    const session = await getSession(db, row.sessionId).catch(() => undefined)
    if (!session) return
    const site = await getSite(db, session.siteId)
    const context = (unsubscribeUrl: string) => ({ siteName: site.name, locale: session.locale, unsubscribeUrl })
    if (row.kind === TRANSCRIPT) {
      const messages = await listMessages(db, session.id)
      return send(site, session, row, (u) => transcriptEmail(context(u), session, messages))
    }
    if (row.kind !== OFFLINE_REPLIES) throw new DeliveryError(`unknown email kind ${row.kind}`, true)
    const seq = Number(row.payload.seq ?? 0)
    // an earlier row of the batch sent this reply already, or the visitor asked for no more email
    if (seq <= session.emailedSeq || session.emailOptOut || !session.email) return
    const pending = await listMessages(db, session.id, { after: session.emailedSeq })
    const replies = missedReplies(session, pending)
    const last = pending.at(-1)?.seq ?? seq
    if (replies.length === 0) return markEmailed(db, session.id, last)
    const token = await createResumeLink(db, { siteId: session.siteId, sessionId: session.id }, deps.linkTtlMs)
    const url = resumeUrl(site, session.pageUrl, token)
    const link = url ? { url, ttlDays: Math.max(1, Math.round(deps.linkTtlMs / DAY_MS)) } : undefined
    await send(site, session, row, (u) => offlineRepliesEmail(context(u), replies, link))
    await markEmailed(db, session.id, last)
  }
}
