import fp from 'fastify-plugin'
import type { OfflineEmailPolicy } from '../chat/messages.js'
import { randomToken, sameHash } from '../chat/secrets.js'
import { sessionToken } from '../chat/session-tokens.js'
import { getOrCreateSetting } from '../chat/settings.js'
import { emailDeliverer } from '../email/deliver.js'
import { smtpMailer } from '../email/mailer.js'
import type { Deliver } from '../outbox/worker.js'

declare module 'fastify' {
  interface FastifyInstance {
    email: {
      /** SMTP_URL is set */
      enabled: boolean
      /** sends the outbox's email rows */
      deliver: Deliver
      /** what agent replies pass to sendMessage: undefined when email is off */
      offlinePolicy: OfflineEmailPolicy | undefined
      unsubscribeTokenValid: (sessionId: string, token: string) => boolean
    }
  }
}

/** Email to visitors (offline replies, transcripts) through SMTP_URL, delivered by the outbox. */
export default fp(async (app) => {
  const { config } = app
  const { smtpUrl } = config.email
  // a secret of its own: an unsubscribe link must not open the chat, nor a chat token unsubscribe
  const secret = await getOrCreateSetting(app.db, 'unsubscribe_token_secret', () => randomToken('', 48))
  const unsubscribeToken = (sessionId: string) => sessionToken(secret, sessionId).replace(/^st_/, 'us_')
  const mailer = smtpUrl ? await smtpMailer(smtpUrl, config.outbox.sendTimeoutMs) : undefined
  if (mailer) app.addHook('onClose', async () => mailer.close())
  app.decorate('email', {
    enabled: mailer !== undefined,
    deliver: emailDeliverer({
      db: app.db, mailer, emailFrom: config.email.from, publicUrl: config.publicUrl, linkTtlMs: config.email.linkTtlMs, unsubscribeToken,
    }),
    offlinePolicy: mailer ? { visitorAwayMs: config.email.visitorAwayMs, batchMs: config.email.batchMs } : undefined,
    unsubscribeTokenValid: (sessionId: string, token: string) => sameHash(unsubscribeToken(sessionId), token),
  })
}, { name: 'email', dependencies: ['db'] })
