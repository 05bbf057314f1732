import { sql } from 'drizzle-orm'
import type { Executor, Tx } from '../db/client.js'
import { sessionsOutboxDeleteSql } from '../outbox/store.js'
import type { Publisher } from '../realtime/bus.js'
import { recordAudit, scrubAuditDetails, type AuditActor } from './audit.js'
import { transaction } from './transaction.js'

/**
 * Erasing sessions (GDPR): the session rows and everything that hangs off them — messages,
 * ratings (columns of the row), Telegram links, resume links — go in one transaction, by
 * foreign-key cascade; their outbox rows (queued and delivered, whose payloads quote messages)
 * by a delete of their own (the outbox has no key to sessions: its check cost every send, see
 * schema-delivery.ts); what lives elsewhere is removed by the erasure steps (`ErasureStep`). Earlier audit entries
 * about the sessions keep their action and actor but lose their details. Afterwards each
 * session's `erased` event closes its widget sockets and removes it from dashboards (an event
 * that was lost, the realtime sweep makes good from recent_erasures, which a trigger fills on
 * every session row deleted: also a site deleted in the database, whose sessions go by cascade
 * with no event at all; migration 0016), and subscribed webhooks get `session.erased` with the id only.
 */

/** What another feature keeps about sessions outside their cascade (files in a bucket, ...). */
export type ErasureStep = {
  /** inside the erasing transaction, before the session rows go: delete your rows */
  beforeDelete?: (tx: Tx, sessionIds: string[]) => Promise<void>
  /** after the commit: delete what cannot roll back (objects in S3); failures are logged, not retried here */
  afterCommit?: (sessionIds: string[]) => Promise<void>
}

export type ErasedSession = { id: string; siteId: string }

export type ErasureAudit = { actor: AuditActor; action: 'session.erased' | 'visitor.erased' | 'retention.erased'; target: string | null; siteId: string | null; details?: Record<string, unknown> }

export async function eraseSessions(
  db: Executor,
  events: Publisher,
  sessionIds: string[],
  opts: { steps?: ErasureStep[]; audit?: ErasureAudit; onStepError?: (err: unknown) => void } = {},
): Promise<ErasedSession[]> {
  if (sessionIds.length === 0 && !opts.audit) return []
  const ids = `{${sessionIds.join(',')}}`
  const erased = await transaction(db, events, async (tx, txEvents) => {
    // lock them first: a message being written to one of them finishes before, or finds it gone
    const locked = await tx.execute<{ id: string; site_id: string }>(sql`
      select id, site_id from chat_sessions where id = any(${ids}::uuid[]) order by id for update`)
    const lockedIds = locked.map((r) => r.id)
    if (lockedIds.length > 0) {
      const lockedArray = `{${lockedIds.join(',')}}`
      for (const step of opts.steps ?? []) await step.beforeDelete?.(tx, lockedIds)
      // not tied to the session row (it is going): the id is all it says
      await tx.execute(sql`
        insert into outbox (event_id, site_id, channel, webhook_id, kind, payload)
        select md5('session.erased:' || s.id::text)::uuid, s.site_id, 'webhook', w.id, 'session.erased', jsonb_build_object('session', jsonb_build_object('id', s.id))
        from chat_sessions s join webhooks w on w.site_id = s.site_id
        where s.id = any(${lockedArray}::uuid[]) and w.active and 'session.erased' = any(w.events)`)
      await scrubAuditDetails(tx, lockedIds)
      const siteArray = `{${[...new Set(locked.map((r) => r.site_id))].join(',')}}`
      await tx.execute(sessionsOutboxDeleteSql(siteArray, lockedArray))
      // a trigger records each deleted row in recent_erasures, for sockets whose erased event is lost
      await tx.execute(sql`delete from chat_sessions where id = any(${lockedArray}::uuid[])`)
    }
    const done = locked.map((r) => ({ id: r.id, siteId: r.site_id }))
    // a visitor erasure that found nothing is still worth knowing about; a missing session is not
    if (opts.audit && (done.length > 0 || opts.audit.action === 'visitor.erased')) {
      await recordAudit(tx, { ...opts.audit, siteId: opts.audit.siteId ?? done[0]?.siteId ?? null, details: { ...opts.audit.details, erasedSessions: done.length } })
    }
    for (const s of done) txEvents.publish({ k: 'erased', site: s.siteId, session: s.id })
    return done
  })
  for (const step of opts.steps ?? []) {
    if (!step.afterCommit || erased.length === 0) continue
    await step.afterCommit(erased.map((s) => s.id)).catch((err: unknown) => opts.onStepError?.(err))
  }
  return erased
}

// recent_erasures rows are kept this long: the sweep looks back a few WS_SWEEP_MS only
const RECENT_ERASURE_KEEP = '1 hour'

/** Deletes up to `limit` recent_erasures rows the sweep no longer looks at; how many went. */
export async function deleteOldErasureRecords(db: Executor, limit: number): Promise<number> {
  const deleted = await db.execute(sql`
    delete from recent_erasures where (session_id, site_id) in (
      select session_id, site_id from recent_erasures where erased_at < now() - ${RECENT_ERASURE_KEEP}::interval limit ${limit})
    returning 1`)
  return deleted.length
}

/** A visitor's sessions on a site: by the widget's userSessionId, by email (any case), or either. */
export async function visitorSessionIds(db: Executor, siteId: string, who: { userSessionId?: string; email?: string }): Promise<string[]> {
  const rows = await db.execute<{ id: string }>(sql`
    select id from chat_sessions
    where site_id = ${siteId}
      and ((${who.userSessionId ?? null}::text is not null and user_session_id = ${who.userSessionId ?? null})
        or (${who.email ?? null}::text is not null and lower(email) = lower(${who.email ?? null})))`)
  return rows.map((r) => r.id)
}
