import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { validationError } from '../../../../chat/errors.js'
import { MAX_TEXT_CHARS } from '../../../../chat/messages.js'
import { enqueueNotify, type NotifyInput } from '../../../../outbox/enqueue.js'
import { ErrorBody, Name, Nullable, Ok, ok, PageUrl } from '../../../../http/schemas.js'

const NOTE_FIELDS = ['name', 'phone', 'message', 'pageUrl'] as const

const NotifyBody = Type.Object({
  name: Type.Optional(Nullable(Name)),
  // the old form sent phones as typed; they are only shown to managers
  phone: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
  message: Type.Optional(Nullable(Type.String({ maxLength: MAX_TEXT_CHARS }))),
  pageUrl: Type.Optional(Nullable(PageUrl)),
}, { additionalProperties: false })

export default (async (app) => {
  app.post('/notify', {
    schema: {
      summary: 'Legacy Telegram notification (the old /api/telegram-notify)',
      description: 'At least one of name, phone, message, pageUrl must be non-empty. The note is queued for the site\'s Telegram chat (202); `queued` is false when the site has no Telegram configured.',
      tags: ['public'],
      security: [{ apiKey: [] }],
      body: NotifyBody,
      response: { 202: Ok(Type.Object({ queued: Type.Boolean() })), '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.public },
    // each one posts to a Telegram chat: a small budget of its own per IP
    onRequest: app.limits.checkNotify,
    preParsing: app.requireSite,
  }, async (req, reply) => {
    const site = req.site
    if (!site) throw new Error('requireSite did not run')
    const note: NotifyInput = {}
    for (const field of NOTE_FIELDS) {
      const value = req.body[field]?.trim()
      if (value) note[field] = value
    }
    if (Object.keys(note).length === 0) {
      throw validationError('At least one of name, phone, message, pageUrl is required', NOTE_FIELDS.map((field) => ({ field, message: 'all fields are empty' })))
    }
    const queued = await enqueueNotify(app.db, app.bus, site.id, note)
    return reply.code(202).send(ok({ queued }))
  })
}) satisfies FastifyPluginAsyncTypebox
