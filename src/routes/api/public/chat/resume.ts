import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { unauthorized } from '../../../../chat/errors.js'
import { listMessages } from '../../../../chat/messages.js'
import { redeemResumeLink } from '../../../../chat/resume-links.js'
import { getSession } from '../../../../chat/sessions.js'
import { publicSessionView } from '../../../../chat/session-views.js'
import { ErrorBody, Message, Ok, ok, PublicSession } from '../../../../http/schemas.js'

export const ResumeBody = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 128, description: 'the `chat_resume` value of the email link\'s fragment' }),
}, { additionalProperties: false })

export const ResumeReply = Ok(Type.Object({ session: PublicSession, sessionId: Type.String({ format: 'uuid' }), userSessionId: Type.String(), token: Type.String(), messages: Type.Array(Message) }))

export default (async (app) => {
  app.post('/resume', {
    schema: {
      summary: 'Reopen a conversation from the link in an email (any browser)',
      description: [
        'The link in an offline email is `<page>#chat_resume=<token>`; the widget on that page posts the token here with the site key.',
        'The token works once and expires (EMAIL_LINK_TTL_HOURS). 200 with what POST /sessions answers: the session, its token and the history.',
        '401 for an unknown, used or expired token, or one of another site.',
      ].join(' '),
      tags: ['public'],
      security: [{ apiKey: [] }],
      body: ResumeBody,
      response: {
        200: ResumeReply,
        '4xx': ErrorBody,
      },
    },
    config: { rateLimit: app.limits.public },
    preParsing: app.requireSite,
  }, async (req) => {
    const site = req.site
    if (!site) throw new Error('requireSite did not run')
    const sessionId = await redeemResumeLink(app.db, site.id, req.body.token)
    if (!sessionId) throw unauthorized('This link has been used or has expired')
    app.visitorSeen(sessionId)
    const session = await getSession(app.db, sessionId)
    return ok({
      session: publicSessionView(session),
      sessionId: session.id,
      userSessionId: session.userSessionId,
      token: app.sessionTokenFor(session.id),
      messages: app.files.linkFor(req).messages(await listMessages(app.db, session.id)),
    })
  })
}) satisfies FastifyPluginAsyncTypebox
