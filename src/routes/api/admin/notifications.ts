import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { conflict, notFound } from '../../../chat/errors.js'
import { getOutboxRow, listOutbox, retryFailed } from '../../../outbox/store.js'
import { Delivery, DeliveryQuery, ErrorBody, Id, Ok, ok, StringEnum } from '../../../http/schemas.js'

const ListQuery = Type.Object({
  ...DeliveryQuery.properties,
  channel: Type.Optional(StringEnum(['telegram', 'webhook', 'email'])),
  siteId: Type.Optional(Id({ format: 'uuid' })),
})

const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) })

export default (async (app) => {
  const common = { config: { rateLimit: app.limits.admin }, preParsing: app.requireAdmin }
  const tags = ['admin']
  const security = [{ bearer: [] }]

  app.get('/notifications', {
    ...common,
    schema: {
      summary: 'Outgoing notifications (Telegram, webhooks and email), newest first; failed ones by default',
      tags, security, querystring: ListQuery,
      response: { 200: Ok(Type.Object({ notifications: Type.Array(Delivery) })), '4xx': ErrorBody },
    },
  }, async (req) => {
    const q = req.query
    const rows = await listOutbox(app.db, { status: q.status ?? 'failed', channel: q.channel, siteId: q.siteId, before: q.before, limit: q.limit ?? 50 })
    return ok({ notifications: rows })
  })

  app.post('/notifications/:id/retry', {
    ...common,
    schema: {
      summary: 'Queue a failed notification again, with a fresh attempt budget',
      description: '409 when the notification is not failed (pending or delivered).',
      tags, security, params: IdParams,
      response: { 200: Ok(Type.Object({ notification: Delivery })), '4xx': ErrorBody },
    },
  }, async (req) => {
    const row = await retryFailed(app.db, app.bus, req.params.id)
    if (row) return ok({ notification: row })
    if (!(await getOutboxRow(app.db, req.params.id))) throw notFound('Notification')
    throw conflict('Only failed notifications can be retried')
  })
}) satisfies FastifyPluginAsyncTypebox
