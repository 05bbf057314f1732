import fp from 'fastify-plugin'
import { sendDueFollowUps } from '../chat/bot.js'
import { startLoop } from '../jobs/loop.js'

/** The bot's "we will get back to you" follow-ups; every instance looks, each session gets one. */
export default fp(async (app) => {
  const job = startLoop(app.config.outbox.botFollowUpPollMs, async () => {
    await sendDueFollowUps(app.db, app.bus, app.clock())
  }, (err) => app.log.error({ err }, 'bot follow-up round failed'))
  app.addHook('onClose', () => job.stop())
}, { name: 'bot', dependencies: ['db', 'bus'] })
