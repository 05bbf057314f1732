import fp from 'fastify-plugin'
import { botApi, botIdOf, type TelegramUpdate } from '../telegram/client.js'
import { configuredBotTokens } from '../telegram/store.js'
import { startTelegramIntake, updateHandler, webhookSecretFor } from '../telegram/reader.js'
import type { UpdateDeps } from '../telegram/updates.js'

const BOT_TOKENS_CACHE_MS = 1_000

declare module 'fastify' {
  interface FastifyInstance {
    telegram: {
      /** handles one update Telegram posted to the webhook exactly once (see telegram/updates.ts); one that keeps failing is skipped */
      processUpdate: (token: string, update: TelegramUpdate) => Promise<void>
      /** what Telegram must send in X-Telegram-Bot-Api-Secret-Token for this bot */
      webhookSecret: (token: string) => string
      /** the configured token of a bot by its id (cached: webhook calls cost no query before their secret is checked) */
      botToken: (botId: string) => Promise<string | undefined>
    }
  }
}

/** Managers' replies from Telegram: getUpdates in one instance per bot, or Telegram's webhook (routes/api/telegram). */
export default fp<{ databaseUrl: string }>(async (app, opts) => {
  const { config } = app
  const deps: UpdateDeps = {
    db: app.db,
    events: app.bus,
    publicUrl: config.publicUrl,
    api: (token, signal) => botApi(config.telegramApiUrl, token, config.outbox.sendTimeoutMs, signal),
    log: app.log,
    files: app.files.stores,
    maxFileBytes: config.attachments.maxBytes,
    offlineEmail: app.email.offlinePolicy,
  }
  const webhookSecret = (token: string) => webhookSecretFor(config.telegramWebhookSecret, token)
  // one read of every site's token per second at most, shared by concurrent callers
  let tokens: { byBot: Promise<Map<string, string>>; at: number } | undefined
  const botToken = async (botId: string) => {
    if (!tokens || Date.now() - tokens.at > BOT_TOKENS_CACHE_MS) {
      const byBot = configuredBotTokens(app.db, app.secretBox).then((list) => new Map(list.map((t) => [botIdOf(t), t])))
      tokens = { byBot, at: Date.now() }
      byBot.catch(() => (tokens = undefined))
    }
    return (await tokens.byBot).get(botId)
  }
  // one per bot: each counts its updates' failed attempts, so one that keeps failing is skipped
  const webhookHandlers = new Map<string, (update: TelegramUpdate) => Promise<void>>()
  const processWebhookUpdate = (token: string, update: TelegramUpdate) => {
    let handle = webhookHandlers.get(token)
    if (!handle) webhookHandlers.set(token, (handle = updateHandler({ ...deps, log: app.log }, token, 'webhook')))
    return handle(update)
  }
  app.decorate('telegram', { processUpdate: processWebhookUpdate, webhookSecret, botToken })
  const intake = startTelegramIntake({ ...deps, box: app.secretBox, databaseUrl: opts.databaseUrl, cfg: config.outbox, webhookBaseUrl: config.telegramWebhookUrl, webhookSecret, log: app.log })
  app.addHook('onClose', () => intake.stop())
}, { name: 'telegram', dependencies: ['db', 'bus', 'email', 'secrets', 'files'] })
