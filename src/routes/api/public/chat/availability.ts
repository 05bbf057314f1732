import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorBody, Ok, ok } from '../../../../http/schemas.js'

export const AvailabilityReply = Ok(Type.Object({
  online: Type.Boolean({ description: 'someone who works on this site is online' }),
  agentsOnline: Type.Integer({ minimum: 0 }),
}))

export default (async (app) => {
  app.get('/availability', {
    schema: {
      summary: 'Is anyone there? For the widget: online, or "we reply by email"',
      description: 'Users who work on the site (admins included) with a dashboard open on any instance and availability online. Answered from memory, no database read.',
      tags: ['public'],
      security: [{ apiKey: [] }],
      response: { 200: AvailabilityReply, '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.public },
    preParsing: app.requireSite,
  }, async (req) => {
    if (!req.site) throw new Error('requireSite did not run')
    return ok(await app.siteAvailability.of(req.site.id))
  })
}) satisfies FastifyPluginAsyncTypebox
