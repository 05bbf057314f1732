import fp from 'fastify-plugin'
import { botApi } from '../telegram/client.js'
import { telegramDeliverer } from '../telegram/deliver.js'
import { webhookDeliverer } from '../outbox/webhooks.js'
import { startOutboxWorker, wakesDelivery } from '../outbox/worker.js'

/**
 * Every instance delivers the outbox (Telegram notifications, webhooks, email); rows are claimed
 * with SKIP LOCKED, so instances share the work and never send a row twice at once. Every
 * change that queues rows announces itself on the bus (a chat event, or 'outbox' for a row
 * queued without one), and that wakes the worker of every instance, so delivery does not
 * wait for OUTBOX_POLL_MS. An instance started with OUTBOX_DELIVERY=false (web-only, beside
 * instances that deliver) runs no worker: its changes still queue their rows and announce
 * them, and the delivering instances' workers wake.
 */
export default fp(async (app) => {
  const { config } = app
  if (!config.outbox.deliver) return
  const api = (token: string) => botApi(config.telegramApiUrl, token, config.outbox.sendTimeoutMs)
  const worker = startOutboxWorker(app.db, config.outbox, {
    telegram: telegramDeliverer({ db: app.db, box: app.secretBox, publicUrl: config.publicUrl, api, files: app.files.stores }),
    webhook: webhookDeliverer(app.db, app.secretBox, { allowPrivate: config.webhookAllowPrivate }, config.outbox.sendTimeoutMs, app.clock),
    email: app.email.deliver,
  }, app.log)
  // rows are written with the change they report: look at once, not at the next poll (which stays as the safety net)
  await app.bus.subscribe({
    onEvent: (event) => {
      if (wakesDelivery(event)) worker.wake()
    },
    onReconnect: () => worker.wake(),
  })
  app.addHook('onClose', () => worker.stop())
}, { name: 'outbox', dependencies: ['db', 'bus', 'email', 'secrets', 'files'] })
