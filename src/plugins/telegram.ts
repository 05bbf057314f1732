import fp from 'fastify-plugin'
import { botApi, type TelegramUpdate } from '../telegram/client.js'
import { startTelegramIntake, webhookSecretFor } from '../telegram/reader.js'
import { processUpdate, type UpdateDeps } from '../telegram/updates.js'

declare module 'fastify' {
  interface FastifyInstance {
    telegram: {
      /** handles one update exactly once (see telegram/updates.ts) */
      processUpdate: (token: string, update: TelegramUpdate) => Promise<void>
      /** what Telegram must send in X-Telegram-Bot-Api-Secret-Token for this bot */
      webhookSecret: (token: string) => string
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
  }
  const webhookSecret = (token: string) => webhookSecretFor(config.telegramWebhookSecret, token)
  app.decorate('telegram', { processUpdate: (token: string, update: TelegramUpdate) => processUpdate(deps, token, update), webhookSecret })
  const intake = startTelegramIntake({ ...deps, databaseUrl: opts.databaseUrl, cfg: config.outbox, webhookBaseUrl: config.telegramWebhookUrl, webhookSecret, log: app.log })
  app.addHook('onClose', () => intake.stop())
}, { name: 'telegram', dependencies: ['db', 'bus'] })
