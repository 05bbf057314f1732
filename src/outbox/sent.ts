import { isDatabaseDown } from '../db/availability.js'
import type { Db } from '../db/client.js'
import { markSent, type OutboxRow } from './store.js'

type Logger = { warn: (obj: object, msg: string) => void; error: (obj: object, msg: string) => void }

type Unmarked = {
  row: OutboxRow
  /** what is still to be written: the deliverer's records, then the mark as done */
  writes: (() => Promise<unknown>)[]
  /** the writes under way, if any */
  running?: Promise<void>
}

export type SentLedger = {
  /** the row was sent: from now on only its records and its mark are written, it is never sent again from here */
  add: (row: OutboxRow, records: (() => Promise<unknown>)[]) => void
  /** ids sent from here and not yet marked done: never claimed again, and counted as done for ordering */
  ids: () => number[]
  /** one more attempt for every row whose writes failed (the database was away) */
  retry: () => Promise<void>
  /** waits for the writes under way, retries the rest once, and says which rows stay unmarked */
  close: () => Promise<void>
}

/**
 * Rows this instance sent whose mark as done has not reached the database yet (its backend
 * was killed, the database restarted). A send cannot be taken back, so such a row must
 * never be sent again: it stays here, excluded from this instance's claims, and only its
 * writes are retried (while the database is away, at every round, and at shutdown) until
 * they land. Other instances stay away because the row is still leased; a mark that lands
 * before the lease ends (OUTBOX_SEND_TIMEOUT_MS × 4 + 5 s) keeps it that way, so only an
 * outage longer than that can lead to a second send.
 */
export function sentLedger(db: Db, whenPossible: <T>(write: () => Promise<T>) => Promise<T>, log: Logger): SentLedger {
  const unmarked = new Map<number, Unmarked>()

  function run(entry: Unmarked, write: <T>(w: () => Promise<T>) => Promise<T>): Promise<void> {
    entry.running ??= (async () => {
      for (const next of [...entry.writes]) {
        try {
          await write(next)
        } catch (err) {
          // the database is away: keep this write (and the mark after it) for the next attempt
          if (isDatabaseDown(err)) return
          // refused for good (a record whose conversation was deleted): retrying cannot help
          log.error({ err, outboxId: entry.row.id }, 'a write after a sent notification was refused')
        }
        entry.writes.shift()
      }
      unmarked.delete(entry.row.id)
    })().finally(() => { entry.running = undefined })
    return entry.running
  }

  return {
    add: (row, records) => {
      const entry: Unmarked = { row, writes: [...records, () => markSent(db, row.id)] }
      unmarked.set(row.id, entry)
      void run(entry, whenPossible)
    },
    ids: () => [...unmarked.keys()],
    retry: async () => {
      await Promise.all([...unmarked.values()].filter((e) => !e.running).map((e) => run(e, (w) => w())))
    },
    close: async () => {
      await Promise.all([...unmarked.values()].map((e) => e.running))
      await Promise.all([...unmarked.values()].map((e) => run(e, (w) => w())))
      for (const { row } of unmarked.values()) {
        log.error({ outboxId: row.id }, 'a sent notification could not be marked done before shutdown; another instance may send it again when its lease ends')
      }
    },
  }
}
