import postgres from 'postgres'
import type { Sql } from '../db/client.js'
import { decodeEvents, encodeEvent, type BusEvent, type BusSubscriber, type RealtimeBus } from './bus.js'

export const EVENTS_CHANNEL = 'chat_events'
export const LISTENER_APP_NAME = 'livechat-listener'

// NOTIFY payloads are capped at 8000 bytes; a batch stays below it
const MAX_PAYLOAD_BYTES = 7900

/**
 * The bus on Postgres: NOTIFY on `chat_events` to publish, one LISTEN connection per process
 * to receive. Nothing else to run.
 *
 * Publishing is after the commit, on the pool, in a statement that writes nothing. Postgres
 * takes one instance-wide lock at the commit of every transaction that issued NOTIFY and
 * holds it across the WAL flush, so a NOTIFY inside a writing transaction serialises every
 * writer (bench/notify.ts: flat at any concurrency); outside, the lock is held only for an
 * instant. While one notification is on its way, the events published meanwhile wait and go
 * together as one JSON array. Events pending when the database is away are dropped: the
 * listener's reconnect then tells every subscriber to re-read.
 */
export class PostgresBus implements RealtimeBus {
  private pending: string[] = []
  private flushing: Promise<void> | undefined
  private readonly subscribers = new Set<BusSubscriber>()
  private listener: Promise<postgres.Sql> | undefined

  /**
   * `sql`: the pool to NOTIFY on; `databaseUrl`: for the LISTEN connection, opened on the
   * first subscribe; `log`: told when a subscriber throws (the others still get the event).
   */
  constructor(private readonly opts: { sql: Sql; databaseUrl: string; log: { error: (obj: object, msg: string) => void } }) {}

  publish(event: BusEvent): void {
    this.pending.push(encodeEvent(event))
    this.flushing ??= this.flush()
  }

  async subscribe(subscriber: BusSubscriber): Promise<() => void> {
    this.listener ??= this.listen().catch((err: unknown) => {
      this.listener = undefined
      throw err
    })
    await this.listener
    this.subscribers.add(subscriber)
    return () => this.subscribers.delete(subscriber)
  }

  async close(): Promise<void> {
    await this.flushing
    const listener = this.listener
    this.listener = undefined
    this.subscribers.clear()
    if (listener) await (await listener.catch(() => undefined))?.end({ timeout: 1 })
  }

  private tell(call: (subscriber: BusSubscriber) => void): void {
    for (const subscriber of this.subscribers) {
      try {
        call(subscriber)
      } catch (err) {
        this.opts.log.error({ err }, 'a realtime bus subscriber failed')
      }
    }
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) await this.opts.sql`select pg_notify(${EVENTS_CHANNEL}, ${this.takeBatch()})`
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

  /**
   * Its own postgres.js client (not the pool's `sql.listen`) so that it reconnects with a
   * short back-off: with the default one, re-LISTEN came ~12 s after a 15 s outage, and
   * every notification in that window is gone (see RECIPES.md).
   */
  private async listen(): Promise<postgres.Sql> {
    const sql = postgres(this.opts.databaseUrl, {
      max: 1,
      backoff: (attempt) => Math.min(0.1 * 2 ** attempt, 2),
      connect_timeout: 3,
      onnotice: () => {},
      connection: { application_name: LISTENER_APP_NAME },
    })
    let listens = 0
    try {
      await sql.listen(EVENTS_CHANNEL, (payload) => {
        for (const event of decodeEvents(payload)) this.tell((s) => s.onEvent(event))
      }, () => {
        // postgres.js calls this after the first LISTEN and after every reconnect
        if (listens++ > 0) this.tell((s) => s.onReconnect())
      })
    } catch (err) {
      await sql.end({ timeout: 0 })
      throw err
    }
    return sql
  }
}
