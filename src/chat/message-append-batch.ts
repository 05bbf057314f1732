import { sql } from 'drizzle-orm'
import { Batcher } from '../db/batcher.js'
import type { Db } from '../db/client.js'
import { preparedStatement } from '../db/prepared.js'
import { appendCtes, appendVariant, type AppendedRow, type AppendValues } from './message-append.js'
import { messageFields } from './message-row.js'

const BATCH_INPUTS = ['sessionIds', 'siteIds', 'senders', 'senderNames', 'texts', 'clientMessageIds', 'agentIds', 'awayMs', 'batchMs'] as const

/**
 * The append statement for several messages, each of its own session: the values come as one
 * array per column, and each stored row comes back with its message's place in them (`ord`).
 * The sessions are locked first, in id order, so two batches (of this instance or another)
 * wait for each other instead of deadlocking; `array(select ...)` is evaluated whole before
 * the UPDATE touches a row. The claim, insert and outbox rows are the single statement's,
 * per message (appendCtes); a message whose session claimed nothing (closed, missing, out of
 * its scope) has no row.
 */
const appendBatchStatement = (forwardToTelegram: boolean, offlineEmail: boolean) => preparedStatement<(typeof BATCH_INPUTS)[number], AppendedRow & { ord: number }>(BATCH_INPUTS, (b) => {
  const input = sql`input as (
      select * from unnest(${b.sessionIds}::uuid[], ${b.siteIds}::text[], ${b.senders}::text[], ${b.senderNames}::text[], ${b.texts}::text[],
        ${b.clientMessageIds}::text[], ${b.agentIds}::uuid[], ${b.awayMs}::int[], ${b.batchMs}::int[])
        with ordinality as x(session_id, site_ids, sender, sender_name, text, client_message_id, agent_id, away_ms, batch_ms, ord)
    )`
  const locked = sql`locked as materialized (
      select id from chat_sessions where id in (select session_id from input) order by id for update
    )`
  const x = (column: string) => sql.raw(`x.${column}`)
  const { ctes, queued } = appendCtes({
    sessionId: x('session_id'), siteIds: x('site_ids'), sender: x('sender'), senderName: x('sender_name'), text: x('text'),
    clientMessageId: x('client_message_id'), agentId: x('agent_id'), awayMs: x('away_ms'), batchMs: x('batch_ms'),
  }, {
    claimFrom: sql`from input x`,
    claimWhere: sql`s.id = x.session_id and s.id = any(array(select id from locked))`,
    insertFrom: sql`claimed c join input x on x.session_id = c.id`,
  }, forwardToTelegram, offlineEmail)
  // outboxQueued is the statement's: true for every message when any queued a row (a worker looks once more, never once less)
  return sql`
    with ${sql.join([input, locked, ...ctes], sql`, `)}
    select ${messageFields('i')}, c.site_id as "siteId", ${queued} as "outboxQueued", x.ord::int as ord
    from inserted i join claimed c on c.id = i.session_id join input x on x.session_id = i.session_id`
})

/**
 * Concurrent sends (without files) on the pool go by group commit: while an append statement
 * runs, later sends queue and go together as the next statement (one executor start, one
 * commit and WAL flush, one round trip for all). A send alone runs the single statement at
 * once, as before. Same-session sends never share a statement (it cannot update one session
 * row twice) and are taken in arrival order (two in flight still meet at the session's row
 * lock, as two concurrent lone sends do); when the server refuses a batch (a duplicate
 * clientMessageId, a deadlock with another writer), each of its sends runs alone, so only the
 * culprit fails; a batch whose connection dropped may have committed, so its sends fail (the
 * client retries by clientMessageId) rather than run twice.
 * One statement at a time per variant and process, and a second beside it only once it has
 * run OVERLAP_AFTER_MS (a batch waiting on a session's row lock, behind a long transaction,
 * holds up the other sends no longer; a statement takes 1–10 ms under load). Two always in
 * flight made batches of 2.3 sends at c = 8 against 3.8 with one; one at a time cut the CPU per
 * send (Node + Postgres + load generator) by 9–20 % at c = 8 and 16 % at c = 32 (README, "Group
 * commit of sends"). A batch holds at most MAX_BATCH sends (the statement's size stays bounded).
 */
const MAX_IN_FLIGHT = 2
const OVERLAP_AFTER_MS = 20
const MAX_BATCH = 64

type Variant = { telegram: boolean; email: boolean }
const batchers = new WeakMap<Db, Map<string, Batcher<AppendValues, AppendedRow | undefined>>>()
const batchStatements = new Map<string, ReturnType<typeof appendBatchStatement>>()

function batcherFor(db: Db, v: Variant) {
  const key = `${v.telegram}:${v.email}`
  let perVariant = batchers.get(db)
  if (!perVariant) batchers.set(db, (perVariant = new Map()))
  let batcher = perVariant.get(key)
  if (batcher) return batcher
  const one = appendVariant(v.telegram, false, v.email)
  const many = batchStatements.get(key) ?? appendBatchStatement(v.telegram, v.email)
  batchStatements.set(key, many)
  batcher = new Batcher<AppendValues, AppendedRow | undefined>({
    maxInFlight: MAX_IN_FLIGHT,
    overlapAfterMs: OVERLAP_AFTER_MS,
    maxBatch: MAX_BATCH,
    key: (item) => String(item.sessionId),
    runOne: async (item) => (await one(db, item))[0],
    runMany: async (items) => {
      const column = (k: keyof AppendValues) => items.map((item) => item[k])
      const rows = await many(db, {
        sessionIds: column('sessionId'), siteIds: column('siteIds'), senders: column('sender'), senderNames: column('senderName'), texts: column('text'),
        clientMessageIds: column('clientMessageId'), agentIds: column('agentId'), awayMs: column('awayMs'), batchMs: column('batchMs'),
      })
      const stored: Array<AppendedRow | undefined> = items.map(() => undefined)
      for (const { ord, ...row } of rows) stored[ord - 1] = row
      return stored
    },
  })
  perVariant.set(key, batcher)
  return batcher
}

/** Stores a message without files through the pool's batcher for its statement variant; undefined when its session claimed nothing. */
export const appendBatched = (db: Db, v: Variant, values: AppendValues): Promise<AppendedRow | undefined> => batcherFor(db, v).run(values)
