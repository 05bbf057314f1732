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
  /** a staff token was signed out (`token` is its hash) */
  | { k: 'revoked'; user: string; token: string }

// NOTIFY payloads are capped at 8000 bytes; events are ~120 ASCII bytes each.
const MAX_PAYLOAD_BYTES = 7900

/**
 * Sends events committed on the pool. Postgres takes one instance-wide lock at the commit
 * of every transaction that issued NOTIFY and holds it across the WAL flush, so a NOTIFY in
 * the message's own transaction serialises every writer (bench/notify.ts: flat at any
 * concurrency). Sent after the commit instead, in a transaction that writes nothing, the
 * lock is held only for an instant; and while one notification is on its way, the events
 * that arrive meanwhile wait and go together as one JSON array. An event lost here (the
 * process dies, the database is away) is made good by the hub's periodic catch-up.
 */
class Notifier {
  private pending: string[] = []
  private flushing: Promise<void> | undefined

  constructor(private readonly sql: Sql) {}

  publish(event: ChatEvent): void {
    this.pending.push(JSON.stringify(event))
    this.flushing ??= this.flush()
  }

  /** Resolves once everything published so far has been sent (or given up on). */
  drain(): Promise<void> {
    return this.flushing ?? Promise.resolve()
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) await this.sql`select pg_notify(${EVENTS_CHANNEL}, ${this.takeBatch()})`
    } catch {
      this.pending = []
    } finally {
      this.flushing = undefined
    }
  }

  private takeBatch(): string {
    let bytes = 2
    let n = 0
    while (n < this.pending.length && bytes + (this.pending[n]?.length ?? 0) + 1 <= MAX_PAYLOAD_BYTES) bytes += (this.pending[n++]?.length ?? 0) + 1
    return `[${this.pending.splice(0, Math.max(n, 1)).join(',')}]`
  }
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
