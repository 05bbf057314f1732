import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { notFound, unauthorized } from '../../../chat/errors.js'
import { sameHash } from '../../../chat/secrets.js'
import type { TelegramUpdate } from '../../../telegram/client.js'
import { TELEGRAM_WEBHOOK_PATH } from '../../../telegram/reader.js'
import { ErrorBody, Ok, ok } from '../../../http/schemas.js'

// Telegram's update carries many fields we do not use; only update_id is required
const Update = Type.Object({ update_id: Type.Integer({ minimum: 0 }) }, { additionalProperties: true })

/** Telegram pushes updates here when TELEGRAM_WEBHOOK_URL is set (registered only then). */
export default (async (app) => {
  // Telegram's JSON is taken even with a lone surrogate in it: the reply holding one is refused
  // with a note to the manager (chat/messages.ts assertMessageText), as in getUpdates mode; a
  // 400 would have Telegram redeliver the update, holding up the bot's later ones, and tell nobody
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'))
  app.post(`${TELEGRAM_WEBHOOK_PATH}/:botId`, {
    schema: {
      summary: 'Telegram update (webhook mode)',
      description: 'Checked against X-Telegram-Bot-Api-Secret-Token; a redelivered update is handled once.',
      tags: ['telegram'],
      params: Type.Object({ botId: Type.String({ pattern: '^\\d{1,20}$' }) }),
      body: Update,
      response: { 200: Ok(Type.Object({ handled: Type.Boolean() })), '4xx': ErrorBody },
    },
    // anyone can reach it: without a limit, secret tokens could be guessed at any rate
    config: { rateLimit: app.limits.public },
  }, async (req) => {
    const token = await app.telegram.botToken(req.params.botId)
    if (!token) throw notFound('Bot')
    const header = req.headers['x-telegram-bot-api-secret-token']
    const given = Array.isArray(header) ? header[0] : header
    if (!given || !sameHash(given, app.telegram.webhookSecret(token))) throw unauthorized('Wrong secret token')
    await app.telegram.processUpdate(token, req.body as TelegramUpdate)
    return ok({ handled: true })
  })
}) satisfies FastifyPluginAsyncTypebox
