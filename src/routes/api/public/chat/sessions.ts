import { Type, type Static } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { startSession, type StartInput } from '../../../../chat/session-start.js'
import { publicSessionView } from '../../../../chat/session-views.js'
import { MAX_TEXT_CHARS } from '../../../../chat/messages.js'
import { ErrorBody, Email, Locale, Message, Name, Nullable, Ok, ok, PageUrl, Phone, PublicSession } from '../../../../http/schemas.js'
import { header } from '../../../../plugins/auth.js'

export const StartBody = Type.Object({
  userSessionId: Type.Optional(Nullable(Type.String({ minLength: 8, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' }))),
  firstMessage: Type.Optional(Nullable(Type.String({ maxLength: 20_000, description: `message seq 1 (or appended when resuming): 1–${MAX_TEXT_CHARS} characters once trimmed` }))),
  name: Type.Optional(Nullable(Name)),
  phone: Type.Optional(Nullable(Phone)),
  email: Type.Optional(Nullable(Type.Union([Email, Type.Literal('')]))),
  pageUrl: Type.Optional(Nullable(PageUrl)),
  locale: Type.Optional(Nullable(Type.Union([Locale, Type.Literal('')]))),
}, { additionalProperties: false })

export const StartReply = Ok(Type.Object({
  session: PublicSession,
  sessionId: Type.String({ format: 'uuid' }),
  userSessionId: Type.String(),
  token: Type.String(),
  messages: Type.Array(Message),
}))

/** The seed's clients send `null` (e.g. `localStorage.getItem(...)` on a first visit) and empty strings for "not given". */
function given(body: Static<typeof StartBody>): StartInput {
  const input: Record<string, string> = {}
  for (const [k, v] of Object.entries(body)) {
    if (v === null || v === undefined) continue
    if (v === '' && k !== 'firstMessage') continue
    input[k] = v
  }
  return input as StartInput
}

export default (async (app) => {
  app.post('/sessions', {
    schema: {
      summary: 'Create a session, or get the open one of this userSessionId',
      description: [
        'Returns 201 for a new session, 200 for an existing open one (contact details updated, firstMessage appended). The token opens this session on the session routes (X-Session-Token).',
        'Resuming the open session of a userSessionId, or starting a new one after its closed one, needs proof: that session\'s X-Session-Token, or the site\'s X-API-Secret (server to server; from a browser only on sites with legacyBrowserSecret).',
        'Without it: 401, and nothing of that session is changed or shown. A browser (Origin) the site does not allow: 403.',
      ].join(' '),
      tags: ['public'],
      security: [{ apiKey: [] }, { apiKey: [], sessionToken: [] }, { apiKey: [], apiSecret: [] }],
      body: StartBody,
      response: { 200: StartReply, 201: StartReply, '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.public },
    onRequest: app.limits.checkNewSession,
    // every field is optional, so a POST with no body at all is an empty request
    preValidation: async (req) => {
      if (req.body === undefined) req.body = {}
    },
    preParsing: app.requireSite,
  }, async (req, reply) => {
    const site = req.site
    if (!site) throw new Error('requireSite did not run')
    const userAgent = req.headers['user-agent']?.slice(0, 512)
    // what proves the visitor id is this caller's: the site's secret (back ends), or the token of its session
    const secret = app.siteSecretGiven(req, site)
    const token = header(req, 'x-session-token')
    const owns = (sessionId: string) => secret === true || (token !== undefined && app.sessionTokenValid(sessionId, token))
    const { session, created, messages } = await startSession(app.db, app.bus, site, { ...given(req.body), userAgent }, owns, app.clock())
    // with auto-assignment on, a new chat has its agent before the visitor hears back
    if (created) await app.assigner.newSession(site)
    return reply.code(created ? 201 : 200).send(ok({
      session: publicSessionView(session),
      sessionId: session.id,
      userSessionId: session.userSessionId,
      token: app.sessionTokenFor(session.id),
      messages: app.files.linkFor(req).messages(messages),
    }))
  })
}) satisfies FastifyPluginAsyncTypebox
