import postgres from 'postgres'
import { reconnectDelaySeconds, type Sql } from '../db/client.js'
import { encodeEvent, Subscribers, type BusEvent, type BusSubscriber, type RealtimeBus } from './bus.js'

export const EVENTS_CHANNEL = 'chat_events'
export const LISTENER_APP_NAME = 'livechat-listener'

// NOTIFY payloads are capped at 8000 bytes; a batch stays below it
const MAX_PAYLOAD_BYTES = 7900
// about 1 MB of events waiting for the database at most
const MAX_PENDING_EVENTS = 10_000
const RETRY_BASE_MS = 100
const RETRY_MAX_MS = 1000
// between attempts to LISTEN again while the database is away
const RELISTEN_PAUSE_MS = 250
/** at most this often (while publishing) a bus that found itself alone asks Postgres whether another process listens now */
export const ALONE_CHECK_MS = 1000
/**
 * and a bus that knows others listen, whether they still do. Slower: a stale "others listen"
 * costs only NOTIFYs nobody hears, a stale "alone" costs notifications.
 */
export const OTHERS_CHECK_MS = 30_000
/**
 * Sent first once the database takes notifications again after some were dropped: every
 * instance's subscribers re-read as after a reconnect of their own, so no drop goes unnoticed.
 */
const EVENTS_LOST = JSON.stringify({ k: 'lost' })

type Log = { warn: (obj: object, msg: string) => void; error: (obj: object, msg: string) => void }

/**
 * The bus on Postgres: NOTIFY on `chat_events` to publish, one LISTEN connection per process
 * to receive. Nothing else to run. This bus's own subscribers get its events at publish and
 * skip their notification (bus.ts), so its sockets never wait for the round trip.
 *
 * Publishing is after the commit, on the pool, in a statement that writes no row. Postgres
 * takes one instance-wide lock at the commit of every transaction that issued NOTIFY and
 * holds it across the WAL flush, so a NOTIFY inside a writing transaction serialises every
 * writer (bench/notify.ts: flat at any concurrency); outside, the lock is held only for an
 * instant. While one notification is on its way, the events published meanwhile wait and go
 * together as one JSON array. While the database is away they wait, up to MAX_PENDING_EVENTS;
 * the oldest beyond that are dropped, logged, and followed by a 'lost' notification that has
 * every subscriber of every instance re-read. Those still pending at shutdown are dropped and
 * logged; the other instances' sweeps catch their sockets up.
 *
 * A NOTIFY nobody else hears is not sent. One instance alone (the default deployment) would
 * otherwise pay, for every event, a statement on the pool, a wake-up of its own LISTEN
 * backend and the echo it then skips: in bench:push, 100 of the server's ~250 statements a
 * second, beside every agent's reply. While publishing, the bus reads from pg_stat_activity
 * whether any LISTEN connection but its own is open on the database: at most every
 * ALONE_CHECK_MS while it believes itself alone, every OTHERS_CHECK_MS while it knows others
 * listen (it then notifies every event anyway, so a late answer loses nothing, and the
 * others' departure is still noticed within that time). Until a check says none, and again
 * whenever one cannot say, it notifies. An instance that starts listening says so at once
 * with a NOTIFY of its own (a greeting, no event), and any payload from another process makes
 * the others notify again before their next check. An event not announced in the moment between another instance's LISTEN and
 * its greeting arriving is a lost notification like any other: that instance's sweep and
 * its sockets' backlog reads catch up.
 */
export class PostgresBus implements RealtimeBus {
  private pending: string[] = []
  private flushing: Promise<void> | undefined
  private readonly subscribers: Subscribers
  private listener: Promise<postgres.Sql> | undefined
  private closing = false
  private dropped = 0
  /** how many of the dropped events a sent 'lost' notification has covered */
  private droppedAnnounced = 0
  /** the oldest pending events, sent in the notification on its way (never dropped: they may arrive) */
  private inFlight = 0
  /** false only while a check found no LISTEN connection but this bus's own: events are then not notified */
  private othersListen = true
  /** payloads heard from other processes: a check that began before the latest one cannot say "alone" */
  private othersHeard = 0
  private checkedAt = -Infinity
  private checking: Promise<void> | undefined
  /** the backend of this bus's LISTEN connection, left out when counting listeners */
  private listenerPid: number | undefined

  /**
   * `sql`: the pool to NOTIFY on; `databaseUrl`: for the LISTEN connection, opened on the
   * first subscribe; `log`: told when a subscriber throws (the others still get the event).
   */
  constructor(private readonly opts: { sql: Sql; databaseUrl: string; log: Log }) {
    this.subscribers = new Subscribers(opts.log)
  }

  publish(event: BusEvent): void {
    const encoded = encodeEvent(event)
    this.subscribers.deliverLocally(event)
    if (this.othersListen) {
      this.pending.push(encoded)
      if (this.pending.length > MAX_PENDING_EVENTS) this.drop(this.pending.length - MAX_PENDING_EVENTS, 'too many waiting')
      this.flushing ??= this.flush()
    }
    // after the flush has its statement under way: the event never waits behind the check
    if (performance.now() - this.checkedAt >= (this.othersListen ? OTHERS_CHECK_MS : ALONE_CHECK_MS)) this.checking ??= this.checkListeners()
  }

  async subscribe(subscriber: BusSubscriber): Promise<() => void> {
    this.listener ??= this.listen().catch((err: unknown) => {
      this.listener = undefined
      throw err
    })
    await this.listener
    return this.subscribers.add(subscriber)
  }

  async close(): Promise<void> {
    // what is pending is sent, or given up on at once if the database is away
    this.closing = true
    await Promise.all([this.flushing, this.checking])
    const listener = this.listener
    this.listener = undefined
    this.subscribers.clear()
    if (listener) await (await listener.catch(() => undefined))?.end({ timeout: 1 })
  }

  private async flush(): Promise<void> {
    try {
      for (let failures = 0; this.pending.length > 0;) {
        const count = this.batchSize()
        const batch = this.pending.slice(0, count)
        const droppedBefore = this.dropped
        if (droppedBefore > this.droppedAnnounced) batch.unshift(EVENTS_LOST)
        this.inFlight = count
        try {
          // A NOTIFY's transaction commits like a write (an xid, a commit record, a WAL flush),
          // which doubled the fsyncs of the send path. Its durability is worth nothing (a lost
          // notification is made good by the sweep and by re-reads on reconnect), so it commits
          // without waiting for the flush; listeners are signalled at commit either way.
          await this.opts.sql`select set_config('synchronous_commit', 'off', true), pg_notify(${EVENTS_CHANNEL}, ${this.subscribers.payload(batch)})`
          this.inFlight = 0
          this.pending.splice(0, count)
          // events dropped while this one was on its way are announced by the next
          this.droppedAnnounced = droppedBefore
          failures = 0
        } catch (err) {
          this.inFlight = 0
          if (this.closing) return this.drop(this.pending.length, 'the database is away at shutdown', err)
          if (failures++ === 0) this.opts.log.warn({ err, waiting: this.pending.length }, 'chat notifications wait for the database')
          await new Promise((r) => setTimeout(r, Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** failures)))
        }
      }
    } finally {
      this.flushing = undefined
    }
  }

  /** Whether a LISTEN connection other than this bus's own is open on the database (pg_stat_activity shows every role's application_name). */
  private async checkListeners(): Promise<void> {
    this.checkedAt = performance.now()
    const heard = this.othersHeard
    try {
      const [row] = await this.opts.sql<{ others: boolean }[]>`select exists (select 1 from pg_stat_activity
        where datname = current_database() and application_name = ${LISTENER_APP_NAME} and pid <> ${this.listenerPid ?? 0}::int) as others`
      // a greeting or an event heard meanwhile outranks a snapshot taken before it
      this.othersListen = row?.others !== false || heard !== this.othersHeard
    } catch {
      this.othersListen = true
    } finally {
      this.checking = undefined
    }
  }

  /** Another process spoke on the channel, or this bus's own LISTEN connection is new: notify until a check says otherwise. */
  private assumeOthersListen(): void {
    this.othersHeard++
    this.othersListen = true
  }

  /**
   * After each LISTEN: its backend (not counted as another listener), and a greeting that has
   * every other instance notify again at once. Best effort: their next check finds this one too.
   */
  private async announceListening(listener: postgres.Sql): Promise<void> {
    this.assumeOthersListen()
    try {
      const [row] = await listener<{ pid: number }[]>`select pg_backend_pid() as pid`
      this.listenerPid = row?.pid
      await this.opts.sql`select set_config('synchronous_commit', 'off', true), pg_notify(${EVENTS_CHANNEL}, ${this.subscribers.greeting})`
    } catch (err) {
      this.opts.log.warn({ err }, 'could not tell other instances that this one listens; their next check will')
    }
  }

  /** Drops the oldest `count` events that are not on their way. */
  private drop(count: number, why: string, err?: unknown): void {
    this.pending.splice(this.inFlight, count)
    this.dropped += count
    this.opts.log.error({ err, dropped: count, droppedInAll: this.dropped }, `chat notifications dropped (${why}); sockets catch up by the sweep`)
  }

  /** How many of the oldest events fit in one payload (at least one). */
  private batchSize(): number {
    let bytes = this.subscribers.payloadOverhead + EVENTS_LOST.length + 1
    let n = 0
    while (n < this.pending.length && bytes + (this.pending[n]?.length ?? 0) + 1 <= MAX_PAYLOAD_BYTES) bytes += (this.pending[n++]?.length ?? 0) + 1
    return Math.max(n, 1)
  }

  /**
   * A client of its own with one connection that never idles out. Not postgres.js's
   * `sql.listen`: that one re-LISTENs once when its connection closes and, if the database
   * is still away, swallows the failure and never listens again; with its default back-off,
   * re-LISTEN also came ~12 s after a 15 s outage (see RECIPES.md). Here every close starts
   * attempts that go on, a short back-off apart, until LISTEN succeeds; then every
   * subscriber is told to re-read.
   */
  private async listen(): Promise<postgres.Sql> {
    let attempts: Promise<void> | undefined
    const listenUntilListening = async () => {
      while (!this.closing) {
        try {
          await sql.unsafe(`listen ${EVENTS_CHANNEL}`)
          await this.announceListening(sql)
          this.subscribers.tell((s) => s.onReconnect())
          return
        } catch {
          await new Promise((r) => setTimeout(r, RELISTEN_PAUSE_MS))
        }
      }
    }
    // onnotify is an option postgres.js reads (its own listen() uses it) but does not declare
    const options: postgres.Options<Record<string, never>> & { onnotify: (channel: string, payload: string) => void } = {
      max: 1,
      idle_timeout: 0,
      max_lifetime: 0,
      fetch_types: false,
      backoff: reconnectDelaySeconds,
      connect_timeout: 3,
      onnotice: () => {},
      connection: { application_name: LISTENER_APP_NAME },
      onnotify: (channel, payload) => {
        if (channel !== EVENTS_CHANNEL) return
        if (!this.subscribers.isOwn(payload)) this.assumeOthersListen()
        this.subscribers.deliver(payload)
      },
      // also called for each failed attempt to connect; one loop of attempts at a time
      onclose: () => {
        if (!this.closing) attempts ??= listenUntilListening().finally(() => (attempts = undefined))
      },
    }
    const sql = postgres(this.opts.databaseUrl, options)
    try {
      await sql.unsafe(`listen ${EVENTS_CHANNEL}`)
    } catch (err) {
      await sql.end({ timeout: 0 })
      throw err
    }
    await this.announceListening(sql)
    return sql
  }
}
