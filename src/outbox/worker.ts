import type { OutboxConfig } from '../config.js'
import { isDatabaseDown } from '../db/availability.js'
import { messageWithoutValues } from '../db/query-errors.js'
import type { Db } from '../db/client.js'
import { startLoop, type Loop } from '../jobs/loop.js'
import type { BusEvent } from '../realtime/bus.js'
import { sentLedger } from './sent.js'
import { claimDue, markFailed, postpone, scheduleRetry, type OutboxRow } from './store.js'

/** Why a delivery failed, and what the worker should do about it. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    /** the destination will refuse this row every time: give up now */
    readonly permanent = false,
    /** the destination asked us to wait (Telegram's 429 retry_after) */
    readonly retryAfterMs?: number,
  ) {
    super(message)
  }
}

/**
 * What a deliverer may ask of the round that sends a destination's rows. Each is a round trip
 * kept off the path between one row's send and the next's.
 */
export type Batch = {
  /** what the rows share (a site's bot token, a webhook's URL), looked up once for all of them */
  once: <T>(key: string, load: () => Promise<T>) => Promise<T>
  /**
   * a write that records what the row's send produced (which Telegram message belongs to which
   * conversation): made alongside the row's mark as done, while the next row is sent
   */
  record: (write: () => Promise<unknown>) => void
}

export type Deliver = (row: OutboxRow, batch: Batch) => Promise<void>

function lookups(): Batch['once'] {
  const loaded = new Map<string, Promise<unknown>>()
  return <T>(key: string, load: () => Promise<T>) => {
    let value = loaded.get(key) as Promise<T> | undefined
    if (!value) {
      value = load()
      // a failed lookup is not kept: the row's own error reports it
      value.catch(() => loaded.delete(key))
      loaded.set(key, value)
    }
    return value
  }
}

/** Exponential back-off with "equal jitter": half the delay fixed, half random, so instances spread out. */
export function retryDelayMs(attempts: number, cfg: Pick<OutboxConfig, 'retryBaseMs' | 'retryMaxMs'>, random = Math.random): number {
  const exp = Math.min(cfg.retryMaxMs, cfg.retryBaseMs * 2 ** Math.max(0, attempts - 1))
  return exp / 2 + (exp / 2) * random()
}

const SETTLE_RETRY_MS = 250

type Logger = { warn: (obj: object, msg: string) => void; error: (obj: object, msg: string) => void }

/**
 * The delivery worker each instance runs: claims due rows, sends each through its
 * channel's `deliver`, and marks it done, retries it later, or marks it failed. Rows for one
 * destination go one after another (a 429 postpones the rest of the batch for it); different
 * destinations go in parallel, so one slow receiver does not hold up the others.
 */
/**
 * Whether an event may have queued outbox rows, so the workers should look at once (their
 * poll stays the safety net): a message whose statement queued none (`outbox: false`; most,
 * on a site without webhooks or Telegram) is no news to them. An erasure queues the
 * `session.erased` webhooks.
 */
export function wakesDelivery(event: BusEvent): boolean {
  return (event.k === 'message' && event.outbox !== false) || event.k === 'session' || event.k === 'erased' || event.k === 'outbox'
}

export function startOutboxWorker(db: Db, cfg: OutboxConfig, deliverers: Record<OutboxRow['channel'], Deliver>, log: Logger): Loop {
  // longer than the slowest delivery (a forum card is three Bot API calls), so a lease never ends mid-send
  const leaseMs = cfg.sendTimeoutMs * 4 + 5000

  async function settle(row: OutboxRow, err: unknown): Promise<number | undefined> {
    const e = err instanceof DeliveryError ? err : new DeliveryError(messageWithoutValues(err))
    // a 429 counts as an attempt too, so a destination that keeps asking to wait cannot keep a row for ever
    if (e.retryAfterMs !== undefined && !e.permanent && row.attempts < cfg.maxAttempts) {
      await scheduleRetry(db, row, e.retryAfterMs + Math.random() * 250, e.message)
      return e.retryAfterMs
    }
    if (e.permanent || row.attempts >= cfg.maxAttempts) {
      log.warn({ outboxId: row.id, channel: row.channel, kind: row.kind, attempts: row.attempts, error: e.message }, 'notification failed for good')
      await markFailed(db, row, e.message)
    } else {
      await scheduleRetry(db, row, retryDelayMs(row.attempts, cfg), e.message)
    }
    return undefined
  }

  /**
   * While the database is away a claimed row can be neither settled nor given back, and
   * would wait for its lease to end (a minute) and hold up its conversation's later rows; a
   * delivered one would be sent again then. So such writes are retried until the database is
   * back (at most half the lease, and not past shutdown).
   */
  async function whenPossible<T>(write: () => Promise<T>, signal: AbortSignal): Promise<T> {
    for (const deadline = Date.now() + leaseMs / 2; ;) {
      try {
        return await write()
      } catch (err) {
        if (!isDatabaseDown(err) || signal.aborted || Date.now() > deadline) throw err
        await new Promise((r) => setTimeout(r, SETTLE_RETRY_MS))
      }
    }
  }

  // the ledger's writes outlive a round, so they stop retrying at shutdown rather than at a round's end
  const stopping = new AbortController()
  const sent = sentLedger(db, (write) => whenPossible(write, stopping.signal), log)

  /**
   * Sends one destination's rows in order. A row that failed holds back its conversation's
   * later rows (they go back untried, and wait for it); a 429 postpones all the rest, the
   * database going away gives them back.
   */
  async function deliverInOrder(rows: OutboxRow[], signal: AbortSignal): Promise<void> {
    const once = lookups()
    const heldBack = new Set<string>()
    for (const [i, row] of rows.entries()) {
      if (row.sessionId !== null && heldBack.has(row.sessionId)) {
        await whenPossible(() => postpone(db, row, 0), signal)
        continue
      }
      const records: (() => Promise<unknown>)[] = []
      let waitMs: number | undefined
      try {
        await deliverers[row.channel](row, { once, record: (write) => void records.push(write) })
        sent.add(row, records)
      } catch (err) {
        if (isDatabaseDown(err)) {
          // not the destination's fault: this row and the rest go back untried, due at once
          for (const later of rows.slice(i)) await whenPossible(() => postpone(db, later, 0), signal)
          return
        }
        if (row.sessionId !== null) heldBack.add(row.sessionId)
        waitMs = await whenPossible(() => settle(row, err), signal)
      }
      if (waitMs !== undefined) {
        for (const later of rows.slice(i + 1)) await postpone(db, later, waitMs)
        return
      }
    }
  }

  const loop = startLoop(cfg.pollMs, async (signal) => {
    // marks that could not be written before (the database was away) go first, so they land while their lease holds
    await sent.retry()
    const rows = await claimDue(db, cfg.batchSize, leaseMs, sent.ids())
    const byDestination = new Map<string, OutboxRow[]>()
    for (const row of rows) {
      const key = `${row.channel}:${row.webhookId ?? row.siteId}`
      byDestination.set(key, [...(byDestination.get(key) ?? []), row])
    }
    await Promise.all([...byDestination.values()].map((destinationRows) => deliverInOrder(destinationRows, signal)))
    // more may be due at once: the rest of a full batch, or a conversation's next row, which waited for this one
    if (rows.length > 0) loop.wake()
  }, (err) => log.error({ err }, 'outbox round failed'))
  return {
    wake: loop.wake,
    stop: async () => {
      await loop.stop()
      stopping.abort()
      await sent.close()
    },
  }
}
