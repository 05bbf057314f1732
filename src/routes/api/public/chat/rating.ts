import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { MAX_RATING_COMMENT_CHARS, rateSession } from '../../../../chat/ratings.js'
import { ErrorBody, IdParams, Nullable, Ok, ok, Rating } from '../../../../http/schemas.js'

export const RatingBody = Type.Object({
  score: Type.Integer({ minimum: 1, maximum: 5 }),
  // code points are counted by the domain (an emoji is one); this bound only stops huge bodies early
  comment: Type.Optional(Nullable(Type.String({ maxLength: MAX_RATING_COMMENT_CHARS * 2 }))),
}, { additionalProperties: false })

export const RatingReply = Ok(Type.Object({ rating: Rating }))

export default (async (app) => {
  app.post('/sessions/:id/rating', {
    schema: {
      summary: 'Rate a closed chat (CSAT), once',
      description: `score 1–5 and an optional comment (at most ${MAX_RATING_COMMENT_CHARS} characters; blank means none). 409 CONFLICT when the session is still open or already rated. Dashboards get session.updated with the rating.`,
      tags: ['public'],
      security: [{ apiKey: [], sessionToken: [] }, { apiKey: [], apiSecret: [] }],
      params: IdParams,
      body: RatingBody,
      response: { 201: RatingReply, '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.public },
    preParsing: app.requireSessionCredentials,
    preHandler: app.limits.checkSend,
  }, async (req, reply) => {
    const rating = await rateSession(app.db, app.bus, req.site?.id ?? '', req.params.id, req.body)
    return reply.code(201).send(ok({ rating }))
  })
}) satisfies FastifyPluginAsyncTypebox
