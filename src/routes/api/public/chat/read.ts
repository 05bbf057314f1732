import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { MAX_AFTER } from '../../../../chat/messages.js'
import { markVisitorRead } from '../../../../chat/sessions.js'
import { publicSessionView } from '../../../../chat/session-views.js'
import { ErrorBody, IdParams, Ok, ok, PublicSession } from '../../../../http/schemas.js'

export const ReadBody = Type.Object({
  seq: Type.Integer({ minimum: 0, maximum: MAX_AFTER, description: 'the visitor has seen every message up to this seq (above lastSeq: lastSeq)' }),
}, { additionalProperties: false })

const security: { [name: string]: string[] }[] = [{ apiKey: [], sessionToken: [] }, { apiKey: [], apiSecret: [] }]

export default (async (app) => {
  app.post('/sessions/:id/read', {
    schema: {
      summary: 'Record what the visitor has seen (read receipt)',
      description: [
        'visitorReadSeq becomes `seq` when that is higher (it never moves back; a seq above lastSeq counts as lastSeq). Dashboards get',
        '`{type:"read",sessionId,reader:"visitor",seq}`. Call it when the visitor can actually see the messages (panel open, tab visible).',
        'The widget socket takes `{type:"read",seq}` for the same.',
      ].join(' '),
      tags: ['public'],
      security,
      params: IdParams,
      body: ReadBody,
      response: { 200: Ok(Type.Object({ session: PublicSession })), '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.public },
    preParsing: app.requireSessionCredentials,
  }, async (req) => {
    const session = await markVisitorRead(app.db, app.bus, req.site?.id ?? '', req.params.id, req.body.seq)
    return ok({ session: publicSessionView(session) })
  })
}) satisfies FastifyPluginAsyncTypebox
