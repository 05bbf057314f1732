import fp from 'fastify-plugin'
import { botApi } from '../telegram/client.js'
import { telegramDeliverer } from '../telegram/deliver.js'
import { webhookDeliverer } from '../outbox/webhooks.js'
import { startOutboxWorker } from '../outbox/worker.js'

/**
 * Every instance delivers the outbox (Telegram notifications, webhooks); rows are claimed
 * with SKIP LOCKED, so instances share the work and never send a row twice at once. A chat
 * event (from any instance) wakes the worker, so delivery does not wait for OUTBOX_POLL_MS.
 */
export default fp(async (app) => {
  const { config } = app
  const api = (token: string) => botApi(config.telegramApiUrl, token, config.outbox.sendTimeoutMs)
  const worker = startOutboxWorker(app.db, config.outbox, {
    telegram: telegramDeliverer({ db: app.db, box: app.secretBox, publicUrl: config.publicUrl, api }),
    webhook: webhookDeliverer(app.db, app.secretBox, { allowPrivate: config.webhookAllowPrivate }, config.outbox.sendTimeoutMs, app.clock),
  }, app.log)
  // rows are written with the change they report: look at once, not at the next poll (which stays as the safety net)
  await app.bus.subscribe({
    onEvent: (event) => {
      if (event.k === 'message' || event.k === 'session') worker.wake()
    },
    onReconnect: () => worker.wake(),
  })
  app.addHook('onClose', () => worker.stop())
}, { name: 'outbox', dependencies: ['db', 'bus', 'secrets'] })
