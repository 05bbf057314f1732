import { setTimeout as sleep } from 'node:timers/promises'
import { TelegramError } from './client.js'

// Telegram refuses the call for good (revoked token, bot deleted, a URL it will not take): ask again after this
const REFUSED_CALL_PAUSE_MS = 60_000
// the longest wait after Telegram being down or out of reach
const MAX_BACKOFF_MS = 60_000

/**
 * How long after a Bot API call failed (`failuresInARow` times, this one included) to call
 * the method again: a 429's retry_after; a minute for other 4xx, which asking again does not fix
 * (401/403/404 revoked token or deleted bot, 400 a webhook URL Telegram refuses), except 409,
 * a conflict that goes away (a webhook left over, another poller); doubling from `idleMs` for
 * Telegram being down or out of reach (5xx, no answer). 0 for failures of our own (the database).
 */
export function pauseAfter(err: unknown, failuresInARow: number, idleMs: number): number {
  if (!(err instanceof TelegramError)) return 0
  if (err.retryAfterSeconds !== undefined) return err.retryAfterSeconds * 1000
  if (err.permanent && err.status !== 409) return REFUSED_CALL_PAUSE_MS
  return Math.min(idleMs * 2 ** (failuresInARow - 1), MAX_BACKOFF_MS)
}

export type CallPause = {
  /** ms left before the method may be called again (counted from the failure) */
  remainingMs: () => number
  /** waits out what is left (cut short by the signal) */
  wait: (signal: AbortSignal) => Promise<void>
  /** the call failed: returns the pause that starts now, in ms */
  failed: (err: unknown) => number
  succeeded: () => void
}

/** The pause one bot's calls to one method keep after failures (pauseAfter), so a failing call is neither repeated nor logged every round. */
export function callPause(idleMs: number): CallPause {
  let quietUntil = 0
  let failuresInARow = 0
  const remainingMs = () => Math.max(0, quietUntil - Date.now())
  return {
    remainingMs,
    wait: async (signal) => {
      if (remainingMs() > 0) await sleep(remainingMs(), undefined, { signal }).catch(() => undefined)
    },
    failed: (err) => {
      const ms = pauseAfter(err, ++failuresInARow, idleMs)
      quietUntil = Date.now() + ms
      return ms
    },
    succeeded: () => {
      failuresInARow = 0
      quietUntil = 0
    },
  }
}
