import { createHmac } from 'node:crypto'
import type { OutboxConfig } from '../config.js'
import type { SecretBox } from '../chat/secret-box.js'
import { isDatabaseDown } from '../db/availability.js'
import { messageWithoutValues } from '../db/query-errors.js'
import { advisoryLocks, type AdvisoryLocks } from '../jobs/locks.js'
import { startLoop, type Loop } from '../jobs/loop.js'
import { callPause, type CallPause } from './call-pause.js'
import { botIdOf, TelegramError, type TelegramUpdate } from './client.js'
import { configuredBotTokens } from './store.js'
import { processUpdate, skipUpdate, storedOffset, type Intake, type UpdateDeps } from './updates.js'

export type ReaderDeps = UpdateDeps & {
  /** the lock connection's database (a client of its own, see jobs/locks.ts) */
  databaseUrl: string
  /** opens the sites' sealed bot tokens */
  box: SecretBox
  cfg: OutboxConfig
  /** set: Telegram pushes updates to `${webhookBaseUrl}/api/telegram/webhook/<bot id>` and nobody polls */
  webhookBaseUrl?: string
  webhookSecret: (token: string) => string
  log: UpdateDeps['log'] & { error: (obj: object, msg: string) => void }
}

export const TELEGRAM_WEBHOOK_PATH = '/api/telegram/webhook'

// an update that failed this many times (the database being there) is logged and skipped
export const UPDATE_MAX_ATTEMPTS = 5

// advisory lock (namespace, key): the namespace keeps our locks apart from anyone else's
const LOCK_NAMESPACE = 746_001
const lockKey = (botId: string) => Number(BigInt(botId.replace(/\D/g, '') || '0') % 2_147_483_647n)

/**
 * Handles a bot's updates, each once (processUpdate). One that fails UPDATE_MAX_ATTEMPTS times
 * while the database is up (a malformed update, a bug) is logged and skipped, so that it cannot
 * block the bot: getUpdates would hand it out again and again, and Telegram's webhook posts it
 * again until it is answered 2xx (for a day).
 */
export function updateHandler(deps: UpdateDeps & { log: ReaderDeps['log'] }, token: string, intake: Intake): (update: TelegramUpdate) => Promise<void> {
  const botId = botIdOf(token)
  // failed attempts of updates that are still being retried
  const failures = new Map<number, number>()
  return async (update) => {
    try {
      await processUpdate(deps, token, update, intake)
      failures.delete(update.update_id)
    } catch (err) {
      // the database being away is nobody's fault: the update waits for it
      if (isDatabaseDown(err)) throw err
      const attempts = (failures.get(update.update_id) ?? 0) + 1
      failures.set(update.update_id, attempts)
      if (attempts < UPDATE_MAX_ATTEMPTS) throw err
      deps.log.error({ botId, updateId: update.update_id, attempts, err }, 'a Telegram update kept failing and is skipped')
      await skipUpdate(deps.db, botId, update.update_id, intake)
      failures.delete(update.update_id)
    }
  }
}

/** The secret Telegram sends back in X-Telegram-Bot-Api-Secret-Token: the configured one, or one derived from the bot token. */
export function webhookSecretFor(configured: string | undefined, token: string): string {
  return configured ?? createHmac('sha256', token).update('telegram-webhook').digest('base64url')
}

/**
 * Reads one bot's updates with getUpdates while this instance holds the bot's advisory
 * lock: one reader per bot across all instances, and when the holder dies its connection
 * closes and another instance takes over. Each round starts from the offset in the
 * database, so a restart neither replays nor skips updates.
 */
function startReader(deps: ReaderDeps, locks: AdvisoryLocks, token: string): Loop {
  const botId = botIdOf(token)
  const key = lockKey(botId)
  let holding = false

  async function holdsLock(): Promise<boolean> {
    // a lock lost with its connection (database restart) is taken again at once if free
    if (holding) holding = await locks.holds(key)
    if (!holding) holding = await locks.tryLock(key)
    return holding
  }

  /**
   * The lock goes with its connection (a killed backend, a database restart): a long poll
   * under way stops at once, so the lock is taken again (or left to another instance) after
   * TELEGRAM_IDLE_MS instead of up to TELEGRAM_LONG_POLL_SECONDS, and two instances never
   * poll side by side for long. undefined: the lock was lost.
   */
  async function poll(signal: AbortSignal): Promise<TelegramUpdate[] | undefined> {
    const lockLost = new AbortController()
    const unsubscribe = locks.onConnectionLost(() => {
      holding = false
      lockLost.abort()
    })
    try {
      if (!(await holdsLock())) return []
      const offset = await storedOffset(deps.db, botId)
      const wait = deps.cfg.telegramLongPollSeconds
      const api = deps.api(token, AbortSignal.any([signal, lockLost.signal]))
      try {
        return await api.call<TelegramUpdate[]>('getUpdates', { offset, timeout: wait, allowed_updates: ['message'] }, wait * 1000 + deps.cfg.sendTimeoutMs)
      } catch (err) {
        if (lockLost.signal.aborted && !signal.aborted) return undefined
        // left over from webhook mode: Telegram refuses getUpdates while a webhook is set
        if (err instanceof TelegramError && err.status === 409 && /webhook/i.test(err.description)) await api.call('deleteWebhook', {})
        throw err
      }
    } finally {
      unsubscribe()
    }
  }

  const handle = updateHandler(deps, token, 'poll')

  // Telegram asked to wait, refused the token or was down: getUpdates is not asked every round
  const pause = callPause(deps.cfg.telegramIdleMs)
  const loop = startLoop(deps.cfg.telegramIdleMs, async (signal) => {
    await pause.wait(signal)
    let updates: TelegramUpdate[] | undefined
    try {
      updates = await poll(signal)
    } catch (err) {
      pause.failed(err)
      throw err
    }
    pause.succeeded()
    if (!updates) return
    // in order; a failure stops the batch, and the next round asks again from the stored offset
    for (const update of updates) await handle(update)
    if (updates.length > 0) loop.wake()
  }, (err) => deps.log.warn({ botId, err: messageWithoutValues(err) }, 'reading Telegram updates failed'))

  return {
    wake: loop.wake,
    stop: async () => {
      await loop.stop()
      if (holding) await locks.unlock(key).catch(() => undefined)
      holding = false
    },
  }
}

/**
 * Keeps update intake in line with the sites' bots: a reader per bot token (long polling),
 * or, with a public webhook URL, setWebhook once per bot from every instance (harmless
 * repeats). Sites added later are picked up on the next round.
 */
export function startTelegramIntake(deps: ReaderDeps): Loop {
  const readers = new Map<string, Loop>()
  const webhooksSet = new Set<string>()
  // bots whose setWebhook failed: asked again when their pause is over, one bot not holding up the others
  const webhookPauses = new Map<string, CallPause>()
  const locks = advisoryLocks(deps.databaseUrl, LOCK_NAMESPACE)

  async function ensureWebhook(token: string, signal: AbortSignal): Promise<void> {
    const pause = webhookPauses.get(token) ?? callPause(deps.cfg.telegramIdleMs)
    if (pause.remainingMs() > 0) return
    try {
      await deps.api(token, signal).call('setWebhook', {
        url: `${deps.webhookBaseUrl}${TELEGRAM_WEBHOOK_PATH}/${botIdOf(token)}`,
        secret_token: deps.webhookSecret(token),
        allowed_updates: ['message'],
      })
    } catch (err) {
      if (signal.aborted) return
      webhookPauses.set(token, pause)
      const retryInMs = pause.failed(err)
      deps.log.warn({ botId: botIdOf(token), err: messageWithoutValues(err), retryInMs }, 'setting the Telegram webhook failed')
      return
    }
    webhookPauses.delete(token)
    webhooksSet.add(token)
  }

  const discovery = startLoop(deps.cfg.telegramIdleMs, async (signal) => {
    const tokens = new Set(await configuredBotTokens(deps.db, deps.box))
    if (deps.webhookBaseUrl) {
      for (const token of webhookPauses.keys()) if (!tokens.has(token)) webhookPauses.delete(token)
      for (const token of tokens) if (!webhooksSet.has(token)) await ensureWebhook(token, signal)
      return
    }
    for (const token of tokens) if (!readers.has(token)) readers.set(token, startReader(deps, locks, token))
    for (const [token, reader] of readers) {
      if (tokens.has(token)) continue
      readers.delete(token)
      await reader.stop()
    }
  }, (err) => deps.log.warn({ err: messageWithoutValues(err) }, 'Telegram intake round failed'))

  return {
    wake: () => {
      discovery.wake()
      for (const r of readers.values()) r.wake()
    },
    stop: async () => {
      await discovery.stop()
      await Promise.all([...readers.values()].map((r) => r.stop()))
      readers.clear()
      await locks.close()
    },
  }
}
