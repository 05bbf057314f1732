import { sql, type SQL } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import type { Session } from '../chat/sessions.js'
import type { Publisher } from '../realtime/bus.js'

/** Events a site's webhooks can subscribe to. */
export const WEBHOOK_EVENTS = ['session.created', 'message.created', 'session.closed', 'session.erased'] as const
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number]

/** What the Telegram worker can post; the payload holds what the card shows, as it was at the time. */
export type TelegramKind = 'session.created' | 'message.created' | 'contact.updated' | 'notify'

// An event's id is derived from what it reports, so every receiver (and every retry) sees the same id.
const eventId = (kind: string, subjectId: SQL | string) => sql`md5(${kind}::text || ':' || ${subjectId}::text)::uuid`

const telegramConfigured = sql`s.telegram_bot_token is not null and s.telegram_chat_id is not null`

/**
 * A message being stored by the caller's statement, as SQL expressions over `from` (the
 * statement's own CTEs): the outbox needs no name the caller chose, and the caller no name
 * the outbox chooses.
 */
export type StoredMessageSql = Record<'id' | 'sessionId' | 'siteId' | 'seq' | 'sender' | 'senderName' | 'text' | 'attachments' | 'createdAt', SQL> & { from: SQL }

/**
 * A data-modifying CTE (`outbox_… as (…)`) for the caller to list in the WITH of the statement
 * that stores the change, and `queued`: SQL over the statement that is true when it inserted a row.
 */
export type OutboxCte = { cte: SQL; queued: SQL }

const outboxCte = (name: string, insert: SQL): OutboxCte => ({
  cte: sql`${sql.raw(name)} as (${insert}
      returning id
    )`,
  queued: sql`exists (select from ${sql.raw(name)})`,
})

/** True when any of these CTEs inserted a row: only then need the outbox workers look. */
export const anyQueued = (ctes: OutboxCte[]): SQL => (ctes.length === 0 ? sql`false` : sql`(${sql.join(ctes.map((c) => c.queued), sql` or `)})`)

/**
 * The CTEs for a message, so that its outbox rows commit with it in one round trip:
 * message.created for the site's webhooks and, when asked, the message for Telegram. For a
 * site with neither, both insert nothing after a primary-key probe on sites and a look at
 * its (small) webhooks table.
 */
export function messageOutboxCtes(m: StoredMessageSql, forwardToTelegram: boolean): OutboxCte[] {
  const webhookRows = outboxCte('outbox_webhooks', sql`
      insert into outbox (event_id, site_id, channel, webhook_id, session_id, kind, payload)
      select ${eventId('message.created', sql`${m.id}::text`)}, ${m.siteId}, 'webhook', w.id, ${m.sessionId}, 'message.created',
        jsonb_build_object('message', jsonb_build_object(
          'id', ${m.id}, 'sessionId', ${m.sessionId}, 'seq', ${m.seq}, 'sender', ${m.sender}, 'senderName', ${m.senderName}, 'text', ${m.text},
          'attachments', coalesce(${m.attachments}, '[]'::jsonb), 'createdAt', to_char(${m.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
      from ${m.from} join webhooks w on w.site_id = ${m.siteId}
      where w.active and 'message.created' = any(w.events)`)
  if (!forwardToTelegram) return [webhookRows]
  const telegramRow = outboxCte('outbox_telegram', sql`
      insert into outbox (event_id, site_id, channel, session_id, kind, payload)
      select ${eventId('telegram.message.created', sql`${m.id}::text`)}, ${m.siteId}, 'telegram', ${m.sessionId}, 'message.created',
        jsonb_build_object('sender', ${m.sender}, 'name', ${m.senderName}, 'text', ${m.text}, 'attachments', coalesce(${m.attachments}, '[]'::jsonb))
      from ${m.from} join sites s on s.id = ${m.siteId}
      where ${telegramConfigured}`)
  return [webhookRows, telegramRow]
}

/**
 * A data-modifying CTE queueing an agent reply for the offline email, when the statement found
 * the visitor away: due at the end of the reply's batch, so replies within it are emailed
 * together (the deliverer sends every reply not yet emailed; later rows of the batch find
 * theirs sent and send nothing).
 */
export function offlineEmailCte(m: { from: SQL; messageId: SQL; sessionId: SQL; siteId: SQL; seq: SQL; dueAt: SQL; away: SQL }): OutboxCte {
  return outboxCte('outbox_email', sql`
      insert into outbox (event_id, site_id, channel, session_id, kind, payload, next_attempt_at)
      select ${eventId('email.offline', sql`${m.messageId}::text`)}, ${m.siteId}, 'email', ${m.sessionId}, ${OFFLINE_REPLIES}, jsonb_build_object('seq', ${m.seq}), ${m.dueAt}
      from ${m.from} where ${m.away}`)
}

export const OFFLINE_REPLIES = 'offline.replies'
export const TRANSCRIPT = 'transcript'

/** Queues the conversation's transcript for the session's email address. */
export async function enqueueTranscript(db: Executor, session: Pick<Session, 'id' | 'siteId'>): Promise<void> {
  await db.execute(sql`
    insert into outbox (site_id, channel, session_id, kind, payload)
    values (${session.siteId}, 'email', ${session.id}, ${TRANSCRIPT}, '{}'::jsonb)`)
}

/** The session as webhook receivers get it (the admin view's fields, without the last message). */
function sessionPayload(s: Session) {
  return {
    session: {
      id: s.id, siteId: s.siteId, userSessionId: s.userSessionId, status: s.status, name: s.name, phone: s.phone, email: s.email,
      pageUrl: s.pageUrl, locale: s.locale, assignedTo: s.assignedTo, createdAt: s.createdAt, closedAt: s.closedAt, lastSeq: s.lastSeq,
    },
  }
}

/**
 * Queues a session event for the site's subscribed webhooks and, with `telegram`, a card for
 * its Telegram chat; call it inside the transaction that made the change.
 */
export async function enqueueSessionEvent(
  db: Executor,
  session: Session,
  kind: WebhookEvent | 'contact.updated',
  telegram?: Record<string, unknown>,
): Promise<void> {
  const subject = kind === 'contact.updated' ? `${session.id}:${session.updatedAt.getTime()}` : session.id
  await db.execute(sql`
    insert into outbox (event_id, site_id, channel, webhook_id, session_id, kind, payload)
    select ${eventId(kind, subject)}, w.site_id, 'webhook', w.id, ${session.id}::uuid, ${kind}::text, ${JSON.stringify(sessionPayload(session))}::jsonb
    from webhooks w where w.site_id = ${session.siteId} and w.active and ${kind}::text = any(w.events)
    union all
    select ${eventId(`telegram.${kind}`, subject)}, s.id, 'telegram', null, ${session.id}::uuid, ${kind}::text, ${JSON.stringify(telegram ?? {})}::jsonb
    from sites s where s.id = ${session.siteId} and ${telegram !== undefined}::boolean and ${telegramConfigured}`)
}

export type NotifyInput = { name?: string; phone?: string; message?: string; pageUrl?: string }

/** Queues a legacy /notify note and wakes the workers; false when the site has no Telegram chat to send it to. */
export async function enqueueNotify(db: Executor, events: Publisher, siteId: string, note: NotifyInput): Promise<boolean> {
  const rows = await db.execute(sql`
    insert into outbox (site_id, channel, kind, payload)
    select s.id, 'telegram', 'notify', ${JSON.stringify(note)}::jsonb from sites s where s.id = ${siteId} and ${telegramConfigured}
    returning id`)
  if (rows.length > 0) events.publish({ k: 'outbox', site: siteId })
  return rows.length > 0
}
