import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { eraseSessions } from '../../../chat/erasure.js'
import { notFound } from '../../../chat/errors.js'
import { exportSession } from '../../../chat/export.js'
import { isUuid } from '../../../chat/ids.js'
import { visibleSites } from '../../../chat/visibility.js'
import { AdminSession, ErrorBody, IdParams, Message, Ok, ok } from '../../../http/schemas.js'
import { staffOf } from '../../../http/staff.js'

/** Privacy on one session: export it (staff) and erase it (admins). */
export default (async (app) => {
  const tags = ['chat']
  const security = [{ bearer: [] }]

  app.get('/sessions/:id/export', {
    schema: {
      summary: 'Export a session: its admin view, every message and the private notes',
      description: 'For access requests; recorded in the audit log (session.exported). A session of a site the caller does not see is a 404.',
      tags, security, params: IdParams,
      response: { 200: Ok(Type.Object({ session: AdminSession, messages: Type.Array(Message), notes: Type.Array(Type.Unknown()) })), '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.admin },
    preParsing: app.requireStaff,
  }, async (req) => {
    const data = await exportSession(app.db, req.params.id, visibleSites(staffOf(req)))
    await app.audit(req, { action: 'session.exported', target: data.session.id, siteId: data.session.siteId })
    const link = app.files.linkFor(req)
    return ok({ ...data, session: link.session(data.session), messages: link.messages(data.messages) })
  })

  app.delete('/sessions/:id', {
    schema: {
      summary: 'Erase a session and everything of it (admins)',
      description: 'Messages, rating, queued and sent notifications, Telegram links and files go; its widget sockets close (4004), dashboards get session.erased, webhooks session.erased (id only). 204; 404 when unknown.',
      tags, security, params: IdParams,
      response: { 204: Type.Null(), '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.admin },
    preParsing: app.requireAdmin,
  }, async (req, reply) => {
    const { id } = req.params
    if (!isUuid(id)) throw notFound('Session')
    const actor = req.staff && { id: req.staff.id, name: req.staff.name }
    const erased = await eraseSessions(app.db, app.bus, [id], {
      steps: app.erasureSteps,
      onStepError: (err) => req.log.error({ err }, 'an erasure step failed after the commit'),
      audit: { actor: actor ?? null, action: 'session.erased', target: id, siteId: null },
    })
    if (erased.length === 0) throw notFound('Session')
    return reply.code(204).send(null)
  })
}) satisfies FastifyPluginAsyncTypebox
