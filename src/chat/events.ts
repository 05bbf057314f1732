import { sql } from 'drizzle-orm'
import type { Db, Executor, Sql } from '../db/client.js'

export const EVENTS_CHANNEL = 'chat_events'

/**
 * What a NOTIFY on chat_events carries: ids only, never message text (payloads are capped
 * at 8000 bytes). Listeners re-read the rows.
 */
export type ChatEvent =
  | { k: 'message'; site: string; session: string; seq: number }
  | { k: 'session'; site: string; session: string; created?: boolean }
  | { k: 'site'; site: string }
  | { k: 'user'; user: string }

// NOTIFY payloads are capped at 8000 bytes; events are ~120 ASCII bytes each.
const MAX_PAYLOAD_BYTES = 7900
// about 1 MB of events waiting for the database at most
const MAX_PENDING_EVENTS = 10_000
const RETRY_BASE_MS = 100
const RETRY_MAX_MS = 1000

/**
 * Sends events committed on the pool. Postgres takes one instance-wide lock at the commit
 * of every transaction that issued NOTIFY and holds it across the WAL flush, so a NOTIFY in
 * the message's own transaction serialises every writer (bench/notify.ts: flat at any
 * concurrency). Sent after the commit instead, in a transaction that writes nothing, the
 * lock is held only for an instant; and while one notification is on its way, the events
 * that arrive meanwhile wait and go together as one JSON array. An event lost here (the
 * process dies) is made good by the hub's periodic catch-up; while the database is away
 * they wait and are sent when it is back.
 */
class Notifier {
  private pending: string[] = []
  private flushing: Promise<void> | undefined
  private draining = false
  private dropped = 0
  log: NotifierLog | undefined

  constructor(private readonly sql: Sql) {}

  publish(event: ChatEvent): void {
    this.pending.push(JSON.stringify(event))
    // while the database is away events wait; past the cap the oldest go (the sweep and a resync make them good)
    if (this.pending.length > MAX_PENDING_EVENTS) this.drop(this.pending.length - MAX_PENDING_EVENTS, 'too many waiting')
    this.flushing ??= this.flush()
  }

  /** Resolves once everything published so far has been sent, or given up on because the database is away. */
  drain(): Promise<void> {
    this.draining = true
    return this.flushing ?? Promise.resolve()
  }

  private async flush(): Promise<void> {
    try {
      for (let failures = 0; this.pending.length > 0;) {
        const count = this.batchSize()
        try {
          await this.sql`select pg_notify(${EVENTS_CHANNEL}, ${`[${this.pending.slice(0, count).join(',')}]`})`
          this.pending.splice(0, count)
          failures = 0
        } catch (err) {
          if (this.draining) return this.drop(this.pending.length, 'the database is away at shutdown', err)
          if (failures++ === 0) this.log?.warn({ err, waiting: this.pending.length }, 'chat notifications wait for the database')
          await new Promise((r) => setTimeout(r, Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** failures)))
        }
      }
    } finally {
      this.flushing = undefined
    }
  }

  private drop(count: number, why: string, err?: unknown): void {
    this.pending.splice(0, count)
    this.dropped += count
    this.log?.error({ err, dropped: count, droppedInAll: this.dropped }, `chat notifications dropped (${why}); sockets catch up by the sweep`)
  }

  /** How many of the oldest events fit in one payload (at least one). */
  private batchSize(): number {
    let bytes = 2
    let n = 0
    while (n < this.pending.length && bytes + (this.pending[n]?.length ?? 0) + 1 <= MAX_PAYLOAD_BYTES) bytes += (this.pending[n++]?.length ?? 0) + 1
    return Math.max(n, 1)
  }
}

export type NotifierLog = { warn: (obj: object, msg: string) => void; error: (obj: object, msg: string) => void }

/** Where the notifier of this pool reports waiting for the database and dropping events. */
export function reportNotifications(db: Db, log: NotifierLog): void {
  notifierOf(db).log = log
}

const notifiers = new WeakMap<Sql, Notifier>()

function notifierOf(db: Db): Notifier {
  let n = notifiers.get(db.$client)
  if (!n) notifiers.set(db.$client, (n = new Notifier(db.$client)))
  return n
}

const onPool = (db: Executor): db is Db => '$client' in db

/**
 * Announces a change. Inside a transaction the NOTIFY joins it (delivered at commit, dropped
 * on rollback); on the pool the change has already committed and the event goes out at once.
 */
export async function notify(db: Executor, event: ChatEvent): Promise<void> {
  if (onPool(db)) notifierOf(db).publish(event)
  else await db.execute(sql`select pg_notify(${EVENTS_CHANNEL}, ${JSON.stringify(event)})`)
}

/** Waits for events still on their way (before the pool closes). */
export async function drainNotifications(db: Db): Promise<void> {
  await notifiers.get(db.$client)?.drain()
}

/** A notification carries one event or an array of them. */
export function parseEvents(payload: string): ChatEvent[] {
  try {
    const parsed: unknown = JSON.parse(payload)
    const list = Array.isArray(parsed) ? parsed : [parsed]
    return list.filter((e): e is ChatEvent => typeof e === 'object' && e !== null && typeof (e as { k?: unknown }).k === 'string')
  } catch {
    return []
  }
}
