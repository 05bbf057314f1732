import { createHmac } from 'node:crypto'
import type { OutboxConfig } from '../config.js'
import type { SecretBox } from '../chat/secret-box.js'
import { advisoryLocks, type AdvisoryLocks } from '../jobs/locks.js'
import { startLoop, type Loop } from '../jobs/loop.js'
import { botIdOf, TelegramError, type TelegramUpdate } from './client.js'
import { configuredBotTokens } from './store.js'
import { processUpdate, storedOffset, type UpdateDeps } from './updates.js'

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

// advisory lock (namespace, key): the namespace keeps our locks apart from anyone else's
const LOCK_NAMESPACE = 746_001
const lockKey = (botId: string) => Number(BigInt(botId.replace(/\D/g, '') || '0') % 2_147_483_647n)

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

  const loop = startLoop(deps.cfg.telegramIdleMs, async (signal) => {
    if (!(await holdsLock())) return
    const offset = await storedOffset(deps.db, botId)
    const wait = deps.cfg.telegramLongPollSeconds
    const api = deps.api(token, signal)
    let updates: TelegramUpdate[]
    try {
      updates = await api.call<TelegramUpdate[]>('getUpdates', { offset, timeout: wait, allowed_updates: ['message'] }, wait * 1000 + deps.cfg.sendTimeoutMs)
    } catch (err) {
      // left over from webhook mode: Telegram refuses getUpdates while a webhook is set
      if (err instanceof TelegramError && err.status === 409 && /webhook/i.test(err.description)) await api.call('deleteWebhook', {})
      throw err
    }
    // in order; a failure stops the batch, and the next round asks again from the stored offset
    for (const update of updates) await processUpdate(deps, token, update)
    if (updates.length > 0) loop.wake()
  }, (err) => deps.log.warn({ botId, err: err instanceof Error ? err.message : String(err) }, 'reading Telegram updates failed'))

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
  const locks = advisoryLocks(deps.databaseUrl, LOCK_NAMESPACE)

  async function ensureWebhook(token: string, signal: AbortSignal): Promise<void> {
    await deps.api(token, signal).call('setWebhook', {
      url: `${deps.webhookBaseUrl}${TELEGRAM_WEBHOOK_PATH}/${botIdOf(token)}`,
      secret_token: deps.webhookSecret(token),
      allowed_updates: ['message'],
    })
    webhooksSet.add(token)
  }

  const discovery = startLoop(deps.cfg.telegramIdleMs, async (signal) => {
    const tokens = new Set(await configuredBotTokens(deps.db, deps.box))
    if (deps.webhookBaseUrl) {
      for (const token of tokens) if (!webhooksSet.has(token)) await ensureWebhook(token, signal)
      return
    }
    for (const token of tokens) if (!readers.has(token)) readers.set(token, startReader(deps, locks, token))
    for (const [token, reader] of readers) {
      if (tokens.has(token)) continue
      readers.delete(token)
      await reader.stop()
    }
  }, (err) => deps.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'Telegram intake round failed'))

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
