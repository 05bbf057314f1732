import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { LABEL_PATTERN } from '../../../chat/label-pattern.js'
import { listMessages, sendMessage } from '../../../chat/messages.js'
import { listNotes } from '../../../chat/notes.js'
import { closeSession, markSessionRead } from '../../../chat/sessions.js'
import { listSessions } from '../../../chat/session-search.js'
import { getAdminSession } from '../../../chat/session-views.js'
import { visibleSites } from '../../../chat/visibility.js'
import { AdminSession, AttachmentIds, ClientMessageId, ErrorBody, Id, IdParams, Message, MessageText, Note, Nullable, Ok, ok, StringEnum } from '../../../http/schemas.js'
import { staffOf } from '../../../http/staff.js'
import { parseTimeRange } from '../../../http/time.js'

const ListQuery = Type.Object({
  status: Type.Optional(StringEnum(['open', 'closed', 'all'], { default: 'all' })),
  search: Type.Optional(Type.String({ maxLength: 200 })),
  siteId: Type.Optional(Id({ format: 'uuid' })),
  from: Type.Optional(Type.String({ maxLength: 64, description: 'ISO date or time, inclusive, on createdAt' })),
  to: Type.Optional(Type.String({ maxLength: 64, description: 'ISO date or time, exclusive, on createdAt' })),
  unread: Type.Optional(Type.Boolean()),
  rating: Type.Optional(Type.Integer({ minimum: 1, maximum: 5, description: 'rated with exactly this score' })),
  rated: Type.Optional(Type.Boolean({ description: 'true: rated sessions; false: sessions without a rating' })),
  assignedTo: Type.Optional(Id({ pattern: '^(me|none|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$', description: '`me`, `none` (unassigned) or a user id' })),
  label: Type.Optional(Type.String({ pattern: LABEL_PATTERN, description: 'sessions carrying this label (case-insensitive)' })),
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, default: 1 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
})

const ReplyBody = Type.Object({
  text: Type.Optional(MessageText),
  clientMessageId: Type.Optional(Nullable(ClientMessageId)),
  attachments: Type.Optional(AttachmentIds),
}, { additionalProperties: false })

const SessionReply = Ok(Type.Object({ session: AdminSession }))

/** Sessions as staff see them: only those of the sites they may see (chat/visibility.ts); any other is a 404. */
export default (async (app) => {
  const common = { config: { rateLimit: app.limits.admin }, preParsing: app.requireStaff }
  const tags = ['chat']
  const security = [{ bearer: [] }]

  app.get('/sessions', {
    ...common,
    schema: {
      summary: 'Sessions, newest activity first', tags, security, querystring: ListQuery,
      response: { 200: Ok(Type.Object({ sessions: Type.Array(AdminSession), total: Type.Integer(), page: Type.Integer(), limit: Type.Integer() })), '4xx': ErrorBody },
    },
  }, async (req) => {
    const staff = staffOf(req)
    const q = req.query
    const page = q.page ?? 1
    const limit = q.limit ?? 20
    const search = q.search?.trim()
    const assignedTo = q.assignedTo === undefined ? undefined : q.assignedTo === 'none' ? null : q.assignedTo === 'me' ? staff.id : q.assignedTo
    const { sessions, total } = await listSessions(app.db, {
      scope: visibleSites(staff),
      status: q.status,
      search: search || undefined,
      siteId: q.siteId,
      ...parseTimeRange(q),
      unread: q.unread,
      rating: q.rating,
      rated: q.rated,
      assignedTo,
      label: q.label,
      page,
      limit,
    })
    return ok({ sessions: app.files.linkFor(req).sessions(sessions), total, page, limit })
  })

  app.get('/sessions/:id', {
    ...common,
    schema: {
      summary: 'A session with its whole history and its private notes', tags, security, params: IdParams,
      response: { 200: Ok(Type.Object({ session: AdminSession, messages: Type.Array(Message), notes: Type.Array(Note) })), '4xx': ErrorBody },
    },
  }, async (req) => {
    const session = await getAdminSession(app.db, req.params.id, visibleSites(staffOf(req)))
    const [messages, notes] = await Promise.all([listMessages(app.db, session.id), listNotes(app.db, session.id)])
    const link = app.files.linkFor(req)
    return ok({ session: link.session(session), messages: link.messages(messages), notes })
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
    const staff = staffOf(req)
    // sendMessage tells a missing or unseen session (404) from a closed one (409) itself; still one statement
    const { message, created } = await sendMessage(app.db, app.bus, {
      sessionId: req.params.id,
      scope: visibleSites(staff),
      sender: 'agent',
      senderName: staff.name,
      agentId: staff.id,
      text: req.body.text ?? '',
      attachments: req.body.attachments,
      forwardToTelegram: true,
      clientMessageId: req.body.clientMessageId ?? null,
      offlineEmail: app.email.offlinePolicy,
    })
    return reply.code(created ? 201 : 200).send(ok({ message: app.files.linkFor(req).message(message) }))
  })

  app.post('/sessions/:id/read', {
    ...common,
    schema: { summary: "Mark the session's visitor messages read", description: 'Sets unreadCount to 0 and agentReadSeq to the newest seq; the visitor\'s sockets get `{type:"read",reader:"agent",seq}`.', tags, security, params: IdParams, response: { 200: SessionReply, '4xx': ErrorBody } },
  }, async (req) => {
    const scope = visibleSites(staffOf(req))
    const session = await markSessionRead(app.db, app.bus, req.params.id, scope)
    return ok({ session: app.files.linkFor(req).session(await getAdminSession(app.db, session.id, scope)) })
  })

  app.post('/sessions/:id/close', {
    ...common,
    schema: { summary: 'Close the session (closing twice is fine)', tags, security, params: IdParams, response: { 200: SessionReply, '4xx': ErrorBody } },
  }, async (req) => {
    const scope = visibleSites(staffOf(req))
    const session = await closeSession(app.db, app.bus, req.params.id, scope)
    // its agent has a free slot now
    if (session.assignedTo) app.assigner.kick()
    return ok({ session: app.files.linkFor(req).session(await getAdminSession(app.db, session.id, scope)) })
  })
}) satisfies FastifyPluginAsyncTypebox
