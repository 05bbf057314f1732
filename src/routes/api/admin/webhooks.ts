import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { notFound } from '../../../chat/errors.js'
import { isUuid } from '../../../chat/ids.js'
import { getSite } from '../../../chat/sites.js'
import { WEBHOOK_EVENTS } from '../../../outbox/enqueue.js'
import { listOutbox } from '../../../outbox/store.js'
import { createWebhook, deleteWebhook, getWebhook, listWebhooks, webhookView } from '../../../outbox/webhooks.js'
import { DateTime, Delivery, DeliveryQuery, ErrorBody, Id, IdParams, Ok, ok } from '../../../http/schemas.js'

const EventName = Type.Union(WEBHOOK_EVENTS.map((e) => Type.Literal(e)))

const Webhook = Type.Object({
  id: Type.String({ format: 'uuid' }),
  siteId: Type.String({ format: 'uuid' }),
  url: Type.String(),
  events: Type.Array(Type.String()),
  active: Type.Boolean(),
  secretHint: Type.String(),
  createdAt: DateTime,
})

const CreateBody = Type.Object({
  url: Type.String({ maxLength: 2048, pattern: '^https?://[^\\s]+$' }),
  events: Type.Optional(Type.Array(EventName, { minItems: 1, uniqueItems: true })),
}, { additionalProperties: false })

const HookParams = Type.Object({ id: Id(), webhookId: Id() })

export default (async (app) => {
  const common = { config: { rateLimit: app.limits.admin }, preParsing: app.requireAdmin }
  const tags = ['admin']
  const security = [{ bearer: [] }]
  const existingSite = async (id: string) => {
    if (!isUuid(id)) throw notFound('Site')
    return getSite(app.db, id)
  }
  const siteWebhook = async (siteId: string, webhookId: string) => {
    const site = await existingSite(siteId)
    const hook = isUuid(webhookId) ? await getWebhook(app.db, app.secretBox, webhookId) : undefined
    if (!hook || hook.siteId !== site.id) throw notFound('Webhook')
    return hook
  }

  app.get('/sites/:id/webhooks', {
    ...common,
    schema: { summary: "The site's webhooks", tags, security, params: IdParams, response: { 200: Ok(Type.Object({ webhooks: Type.Array(Webhook) })), '4xx': ErrorBody } },
  }, async (req) => ok({ webhooks: (await listWebhooks(app.db, app.secretBox, (await existingSite(req.params.id)).id)).map(webhookView) }))

  app.post('/sites/:id/webhooks', {
    ...common,
    schema: {
      summary: 'Add a webhook; its signing secret is shown only here',
      description: `Events default to all: ${WEBHOOK_EVENTS.join(', ')}. The URL must resolve to public addresses: loopback, private, link-local, unique-local and metadata addresses are refused (400), here and at each delivery.`,
      tags, security, params: IdParams, body: CreateBody,
      response: { 201: Ok(Type.Object({ webhook: Webhook, secret: Type.String() })), '4xx': ErrorBody },
    },
  }, async (req, reply) => {
    const site = await existingSite(req.params.id)
    const hook = await createWebhook(app.db, app.secretBox, { allowPrivate: app.config.webhookAllowPrivate }, site.id, req.body.url, req.body.events ?? [...WEBHOOK_EVENTS])
    await app.audit(req, { action: 'webhook.created', target: hook.id, siteId: site.id, details: { url: hook.url, events: hook.events } })
    return reply.code(201).send(ok({ webhook: webhookView(hook), secret: hook.secret }))
  })

  app.delete('/sites/:id/webhooks/:webhookId', {
    ...common,
    schema: { summary: 'Remove a webhook (and its queued deliveries)', tags, security, params: HookParams, response: { 200: Ok(Type.Object({ webhook: Webhook })), '4xx': ErrorBody } },
  }, async (req) => {
    const hook = await siteWebhook(req.params.id, req.params.webhookId)
    const deleted = await deleteWebhook(app.db, app.secretBox, hook.siteId, hook.id)
    await app.audit(req, { action: 'webhook.deleted', target: hook.id, siteId: hook.siteId, details: { url: hook.url } })
    return ok({ webhook: webhookView(deleted) })
  })

  app.get('/sites/:id/webhooks/:webhookId/deliveries', {
    ...common,
    schema: {
      summary: "The webhook's delivery log, newest first", tags, security, params: HookParams, querystring: DeliveryQuery,
      response: { 200: Ok(Type.Object({ deliveries: Type.Array(Delivery) })), '4xx': ErrorBody },
    },
  }, async (req) => {
    const hook = await siteWebhook(req.params.id, req.params.webhookId)
    const rows = await listOutbox(app.db, { webhookId: hook.id, status: req.query.status, before: req.query.before, limit: req.query.limit ?? 50 })
    return ok({ deliveries: rows })
  })
}) satisfies FastifyPluginAsyncTypebox
