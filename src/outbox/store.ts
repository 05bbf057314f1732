import { and, desc, eq, lt, ne, sql, type SQL } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { parseDbTime } from '../db/client.js'
import { outbox } from '../db/schema.js'
import type { Publisher } from '../realtime/bus.js'

export type OutboxRow = typeof outbox.$inferSelect

type RawOutboxRow = {
  id: string
  event_id: string
  site_id: string
  channel: OutboxRow['channel']
  webhook_id: string | null
  session_id: string | null
  kind: string
  payload: Record<string, unknown>
  status: OutboxRow['status']
  attempts: number
  next_attempt_at: string
  last_error: string | null
  created_at: string
  done_at: string | null
}

function fromRaw(r: RawOutboxRow): OutboxRow {
  return {
    id: Number(r.id),
    eventId: r.event_id,
    siteId: r.site_id,
    channel: r.channel,
    webhookId: r.webhook_id,
    sessionId: r.session_id,
    kind: r.kind,
    payload: r.payload,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: parseDbTime(r.next_attempt_at),
    lastError: r.last_error,
    createdAt: parseDbTime(r.created_at),
    doneAt: r.done_at === null ? null : parseDbTime(r.done_at),
  }
}

/**
 * Rows on their way (pending) and given up on (failed), by status: one count per partial index
 * (outbox_due_idx, outbox_failed_idx), neither of which costs a send an extra entry.
 */
export const undeliveredCountSql = sql`
  select 'pending' as status, count(*)::int as n from outbox where status = 'pending'
  union all select 'failed', count(*)::int from outbox where status = 'failed'`

/**
 * Takes up to `limit` due rows and leases them for `leaseMs`: the attempt is counted and
 * next_attempt_at moved past the lease in the same statement, so no other instance takes
 * them while this one sends (SKIP LOCKED lets instances claim side by side without
 * waiting), and a row whose sender died comes back when the lease ends. Each receiver gets a
 * conversation's events in order: a row is taken only when every earlier pending row of its
 * conversation and destination is taken with it (and is then sent before it) or is among
 * `sentIds` (sent by this worker, its mark as done still on its way; never taken again), so
 * a burst of one conversation goes out in one round instead of one round per row.
 * A due row whose site, webhook or session is gone is deleted instead (what the foreign keys'
 * cascade did before they went, schema-delivery.ts): one queued by a change that raced the
 * deletion, or left by a previous release's deletion during a rolling upgrade.
 */
export async function claimDue(db: Executor, limit: number, leaseMs: number, sentIds: number[] = []): Promise<OutboxRow[]> {
  const sent = `{${sentIds.join(',')}}`
  const rows = await db.execute<RawOutboxRow>(sql`
    with candidates as (
      select o.id, o.site_id, o.session_id, o.channel, o.webhook_id from outbox o
      where o.status = 'pending' and o.next_attempt_at <= now() and o.id <> all(${sent}::bigint[])
      order by o.next_attempt_at, o.id
      limit ${limit}
      for update skip locked
    ), orphans as (
      delete from outbox o using candidates c
      where o.id = c.id and o.site_id = c.site_id
        and (not exists (select 1 from sites s where s.id = c.site_id)
          or (c.webhook_id is not null and not exists (select 1 from webhooks w where w.id = c.webhook_id))
          or (c.session_id is not null and not exists (select 1 from chat_sessions s where s.id = c.session_id and s.site_id = c.site_id)))
      returning o.id
    ), due as (
      select c.id from candidates c
      where c.id not in (select id from orphans) and not exists (
        select 1 from outbox e
        where e.status = 'pending' and e.session_id = c.session_id and e.id < c.id
          and e.channel = c.channel and e.webhook_id is not distinct from c.webhook_id
          and e.id not in (select id from candidates) and e.id <> all(${sent}::bigint[]))
    )
    update outbox o set attempts = o.attempts + 1, next_attempt_at = now() + ${leaseMs} * interval '1 millisecond'
    from due where o.id = due.id
    returning o.*`)
  return rows.map(fromRaw).sort((a, b) => a.id - b.id)
}

// Only the holder of the lease (same attempt count, still pending) may settle a row.
const leaseHeld = (row: OutboxRow) => and(eq(outbox.id, row.id), eq(outbox.attempts, row.attempts), eq(outbox.status, 'pending'))

/**
 * Marks a row this instance sent as done, whoever holds its lease now: it was delivered,
 * whatever happened to the lease while the mark was on its way.
 */
export async function markSent(db: Executor, id: number): Promise<void> {
  await db.update(outbox).set({ status: 'done', doneAt: sql`now()`, lastError: null }).where(and(eq(outbox.id, id), ne(outbox.status, 'done')))
}

export async function markFailed(db: Executor, row: OutboxRow, error: string): Promise<void> {
  await db.update(outbox).set({ status: 'failed', doneAt: sql`now()`, lastError: error }).where(leaseHeld(row))
}

export async function scheduleRetry(db: Executor, row: OutboxRow, delayMs: number, error: string): Promise<void> {
  await db.update(outbox)
    .set({ nextAttemptAt: sql`now() + ${Math.round(delayMs)} * interval '1 millisecond'`, lastError: error })
    .where(leaseHeld(row))
}

/** Gives back a claimed row untried (its destination asked us to wait), without counting the attempt. */
export async function postpone(db: Executor, row: OutboxRow, delayMs: number): Promise<void> {
  await db.update(outbox)
    .set({ attempts: sql`${outbox.attempts} - 1`, nextAttemptAt: sql`now() + ${Math.round(delayMs)} * interval '1 millisecond'` })
    .where(leaseHeld(row))
}

export type OutboxFilter = { status?: OutboxRow['status']; siteId?: string; webhookId?: string; channel?: OutboxRow['channel']; before?: number; limit: number }

/** Newest first; `before` pages by id. */
export async function listOutbox(db: Executor, f: OutboxFilter): Promise<OutboxRow[]> {
  const where: SQL[] = []
  if (f.status) where.push(eq(outbox.status, f.status))
  if (f.siteId) where.push(eq(outbox.siteId, f.siteId))
  if (f.webhookId) where.push(eq(outbox.webhookId, f.webhookId))
  if (f.channel) where.push(eq(outbox.channel, f.channel))
  if (f.before !== undefined) where.push(lt(outbox.id, f.before))
  return db.select().from(outbox).where(and(...where)).orderBy(desc(outbox.id)).limit(f.limit)
}

/** A failed row goes back to the queue with a fresh attempt budget, and the workers are woken; undefined when it is not failed. */
export async function retryFailed(db: Executor, events: Publisher, id: number): Promise<OutboxRow | undefined> {
  const [row] = await db.update(outbox)
    .set({ status: 'pending', attempts: 0, nextAttemptAt: sql`now()`, doneAt: null })
    .where(and(eq(outbox.id, id), eq(outbox.status, 'failed'))).returning()
  if (row) events.publish({ k: 'outbox', site: row.siteId })
  return row
}

export async function getOutboxRow(db: Executor, id: number): Promise<OutboxRow | undefined> {
  const [row] = await db.select().from(outbox).where(eq(outbox.id, id))
  return row
}

/**
 * Deletes every row of these sessions (erasure; `{id,...}` array literals): of every status,
 * spelled as the two partial indexes that hold a session's rows (pending: outbox_due_idx, the
 * rest: outbox_session_finished_idx), so that each serves its half. One statement, so that a
 * row changing status meanwhile is still seen (its new version is checked against both).
 */
export const sessionsOutboxDeleteSql = (siteIds: string, sessionIds: string) => sql`
  delete from outbox where site_id = any(${siteIds}::uuid[]) and session_id = any(${sessionIds}::uuid[])
    and (status = 'pending' or status <> 'pending')`

/**
 * Deletes up to `batch` rows whose session is gone: what a previous release's erasure left
 * during a rolling upgrade (it relied on the dropped key's cascade), delivered or not, so no
 * payload keeps an erased message's text. (A row commits with its session, or after it.)
 */
export async function deleteOrphanedOutbox(db: Executor, batch: number): Promise<number> {
  const rows = await db.execute(sql`
    delete from outbox where id in (
      select o.id from outbox o
      where o.session_id is not null and not exists (select 1 from chat_sessions s where s.id = o.session_id and s.site_id = o.site_id)
      limit ${batch})
    returning 1`)
  return rows.length
}

/**
 * Deletes up to `batch` rows delivered or given up on more than `maxDays` ago (by when they
 * were finished), so the table holds what is on its way plus a recent history only.
 */
export async function deleteFinishedOutbox(db: Executor, maxDays: number, batch: number): Promise<number> {
  const rows = await db.execute(sql`
    delete from outbox where id in (
      select id from outbox where status <> 'pending' and done_at < now() - make_interval(days => ${maxDays}) limit ${batch})
    returning 1`)
  return rows.length
}
