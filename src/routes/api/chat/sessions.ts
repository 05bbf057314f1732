import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { unauthorized } from '../../../chat/errors.js'
import { listMessages, sendMessage } from '../../../chat/messages.js'
import { closeSession, markSessionRead } from '../../../chat/sessions.js'
import { listSessions } from '../../../chat/session-search.js'
import { getAdminSession } from '../../../chat/session-views.js'
import { AdminSession, AttachmentIds, ClientMessageId, ErrorBody, IdParams, Message, Nullable, Ok, ok, StringEnum } from '../../../http/schemas.js'
import { parseTimeRange } from '../../../http/time.js'

const ListQuery = Type.Object({
  status: Type.Optional(StringEnum(['open', 'closed', 'all'], { default: 'all' })),
  search: Type.Optional(Type.String({ maxLength: 200 })),
  siteId: Type.Optional(Type.String({ format: 'uuid' })),
  from: Type.Optional(Type.String({ maxLength: 64, description: 'ISO date or time, inclusive, on createdAt' })),
  to: Type.Optional(Type.String({ maxLength: 64, description: 'ISO date or time, exclusive, on createdAt' })),
  unread: Type.Optional(Type.Boolean()),
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, default: 1 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
})

const ReplyBody = Type.Object({
  text: Type.Optional(Type.String({ maxLength: 20_000, description: 'required unless attachments are given' })),
  clientMessageId: Type.Optional(Nullable(ClientMessageId)),
  attachments: Type.Optional(AttachmentIds),
}, { additionalProperties: false })

const SessionReply = Ok(Type.Object({ session: AdminSession }))

export default (async (app) => {
  const common = { config: { rateLimit: app.limits.admin }, preHandler: app.requireStaff }
  const tags = ['chat']
  const security = [{ bearer: [] }]

  app.get('/sessions', {
    ...common,
    schema: {
      summary: 'Sessions, newest activity first', tags, security, querystring: ListQuery,
      response: { 200: Ok(Type.Object({ sessions: Type.Array(AdminSession), total: Type.Integer(), page: Type.Integer(), limit: Type.Integer() })), '4xx': ErrorBody },
    },
  }, async (req) => {
    const q = req.query
    const page = q.page ?? 1
    const limit = q.limit ?? 20
    const search = q.search?.trim()
    const { sessions, total } = await listSessions(app.db, {
      status: q.status,
      search: search || undefined,
      siteId: q.siteId,
      ...parseTimeRange(q),
      unread: q.unread,
      page,
      limit,
    })
    return ok({ sessions: app.files.linkFor(req).sessions(sessions), total, page, limit })
  })

  app.get('/sessions/:id', {
    ...common,
    schema: { summary: 'A session with its whole history', tags, security, params: IdParams, response: { 200: Ok(Type.Object({ session: AdminSession, messages: Type.Array(Message) })), '4xx': ErrorBody } },
  }, async (req) => {
    const session = await getAdminSession(app.db, req.params.id)
    const link = app.files.linkFor(req)
    return ok({ session: link.session(session), messages: link.messages(await listMessages(app.db, session.id)) })
  })

  app.post('/sessions/:id/messages', {
    ...common,
    schema: {
      summary: 'Reply as the logged-in agent',
      description: '409 SESSION_CLOSED on a closed session; a repeated clientMessageId returns the stored reply (200). `attachments`: ids from POST /sessions/:id/attachments (at most 5); `text` may then be empty.',
      tags, security, params: IdParams, body: ReplyBody,
      response: { 200: Ok(Type.Object({ message: Message })), 201: Ok(Type.Object({ message: Message })), '4xx': ErrorBody },
    },
  }, async (req, reply) => {
    const staff = req.staff
    if (!staff) throw unauthorized()
    // sendMessage tells a missing session (404) from a closed one (409) itself
    const { message, created } = await sendMessage(app.db, app.bus, {
      sessionId: req.params.id,
      sender: 'agent',
      senderName: staff.name,
      agentId: staff.id,
      text: req.body.text ?? '',
      attachments: req.body.attachments,
      forwardToTelegram: true,
      clientMessageId: req.body.clientMessageId ?? null,
    })
    return reply.code(created ? 201 : 200).send(ok({ message: app.files.linkFor(req).message(message) }))
  })

  app.post('/sessions/:id/read', {
    ...common,
    schema: { summary: "Mark the session's visitor messages read", description: 'Sets unreadCount to 0 and agentReadSeq to the newest seq; the visitor\'s sockets get `{type:"read",reader:"agent",seq}`.', tags, security, params: IdParams, response: { 200: SessionReply, '4xx': ErrorBody } },
  }, async (req) => {
    const session = await markSessionRead(app.db, app.bus, req.params.id)
    return ok({ session: app.files.linkFor(req).session(await getAdminSession(app.db, session.id)) })
  })

  app.post('/sessions/:id/close', {
    ...common,
    schema: { summary: 'Close the session (closing twice is fine)', tags, security, params: IdParams, response: { 200: SessionReply, '4xx': ErrorBody } },
  }, async (req) => {
    const session = await closeSession(app.db, app.bus, req.params.id)
    return ok({ session: app.files.linkFor(req).session(await getAdminSession(app.db, session.id)) })
  })
}) satisfies FastifyPluginAsyncTypebox
