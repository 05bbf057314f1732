import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { notFound } from '../../../../chat/errors.js'
import { DEFAULT_PAGE, MAX_AFTER, MAX_PAGE, sendMessage } from '../../../../chat/messages.js'
import { pollMessages } from '../../../../chat/polls.js'
import { AttachmentIds, ClientMessageId, ErrorBody, IdParams, Message, MessageText, Nullable, Ok, ok, StringEnum } from '../../../../http/schemas.js'
import { parseTimeParam } from '../../../../http/time.js'

export const SendBody = Type.Object({
  text: Type.Optional(MessageText),
  clientMessageId: Type.Optional(Nullable(ClientMessageId)),
  attachments: Type.Optional(AttachmentIds),
}, { additionalProperties: false })

export const PollQuery = Type.Object({
  since: Type.Optional(Type.String({ maxLength: 128, description: 'ISO 8601 time (or epoch milliseconds, or a JavaScript Date\'s toString()): messages created after it. Empty, `undefined` or `null` (a widget that holds no message yet) mean not given' })),
  after: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_AFTER, description: 'messages with seq greater than it' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE })),
})

export const MessageReply = Ok(Type.Object({ message: Message }))
export const PollReply = Ok(Type.Object({
  messages: Type.Array(Message),
  status: StringEnum(['open', 'closed']),
  lastSeq: Type.Integer({ minimum: 0 }),
  agentReadSeq: Type.Integer({ minimum: 0, description: 'an agent has seen every message up to this seq' }),
}))

const security: { [name: string]: string[] }[] = [{ apiKey: [], sessionToken: [] }, { apiKey: [], apiSecret: [] }]

export default (async (app) => {
  app.post('/sessions/:id/messages', {
    schema: {
      summary: 'Send a visitor message',
      description: [
        '201 when stored; 200 with the stored message when clientMessageId repeats an earlier send; 409 SESSION_CLOSED on a closed session.',
        '`attachments`: ids from POST /sessions/:id/attachments (at most 5, each sent once); `text` may then be empty.',
      ].join(' '),
      tags: ['public'],
      security,
      params: IdParams,
      body: SendBody,
      response: { 200: MessageReply, 201: MessageReply, '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.public },
    preParsing: app.requireSessionCredentials,
    preHandler: app.limits.checkSend,
  }, async (req, reply) => {
    if (!req.site) throw new Error('requireSessionCredentials did not run')
    const { message, created } = await sendMessage(app.db, app.bus, {
      sessionId: req.params.id,
      scope: [req.site.id],
      sender: 'visitor',
      text: req.body.text ?? '',
      clientMessageId: req.body.clientMessageId ?? null,
      attachments: req.body.attachments,
    })
    return reply.code(created ? 201 : 200).send(ok({ message: app.files.linkFor(req).message(message) }))
  })

  app.get('/sessions/:id/messages', {
    schema: {
      summary: 'Poll for messages',
      description: '`since`: created after this time; `after`: seq above it; neither: the whole history. Oldest first, at most `limit`.',
      tags: ['public'],
      security,
      params: IdParams,
      querystring: PollQuery,
      response: { 200: PollReply, '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.public },
    preParsing: app.requireSessionCredentials,
  }, async (req) => {
    const since = parseTimeParam(req.query.since, 'since')
    const poll = await pollMessages(app.db, req.site?.id ?? '', req.params.id, { since, after: req.query.after, limit: req.query.limit ?? DEFAULT_PAGE })
    if (!poll) throw notFound('Session')
    return ok({ ...poll, messages: app.files.linkFor(req).messages(poll.messages) })
  })
}) satisfies FastifyPluginAsyncTypebox
