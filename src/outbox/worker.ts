import type { OutboxConfig } from '../config.js'
import { isDatabaseDown } from '../db/availability.js'
import type { Db } from '../db/client.js'
import { startLoop, type Loop } from '../jobs/loop.js'
import { claimDue, markDone, markFailed, postpone, scheduleRetry, type OutboxRow } from './store.js'

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

export type Deliver = (row: OutboxRow) => Promise<void>

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
export function startOutboxWorker(db: Db, cfg: OutboxConfig, deliverers: Record<OutboxRow['channel'], Deliver>, log: Logger): Loop {
  // longer than the slowest delivery (a forum card is three Bot API calls), so a lease never ends mid-send
  const leaseMs = cfg.sendTimeoutMs * 4 + 5000

  async function settle(row: OutboxRow, err: unknown): Promise<number | undefined> {
    const e = err instanceof DeliveryError ? err : new DeliveryError(err instanceof Error ? err.message : String(err))
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

  async function deliverInOrder(rows: OutboxRow[], signal: AbortSignal): Promise<void> {
    for (const [i, row] of rows.entries()) {
      let waitMs: number | undefined
      let delivered = false
      try {
        await deliverers[row.channel](row)
        delivered = true
      } catch (err) {
        if (isDatabaseDown(err)) {
          // not the destination's fault: this row and the rest go back untried, due at once
          for (const later of rows.slice(i)) await whenPossible(() => postpone(db, later, 0), signal)
          return
        }
        waitMs = await whenPossible(() => settle(row, err), signal)
      }
      if (delivered) await whenPossible(() => markDone(db, row), signal)
      if (waitMs !== undefined) {
        for (const later of rows.slice(i + 1)) await postpone(db, later, waitMs)
        return
      }
    }
  }

  const loop = startLoop(cfg.pollMs, async (signal) => {
    const rows = await claimDue(db, cfg.batchSize, leaseMs)
    const byDestination = new Map<string, OutboxRow[]>()
    for (const row of rows) {
      const key = `${row.channel}:${row.webhookId ?? row.siteId}`
      byDestination.set(key, [...(byDestination.get(key) ?? []), row])
    }
    await Promise.all([...byDestination.values()].map((destinationRows) => deliverInOrder(destinationRows, signal)))
    // more may be due at once: the rest of a full batch, or a conversation's next row, which waited for this one
    if (rows.length > 0) loop.wake()
  }, (err) => log.error({ err }, 'outbox round failed'))
  return loop
}
