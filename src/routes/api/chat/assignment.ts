import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { assignSession } from '../../../chat/assignment.js'
import { getAdminSession } from '../../../chat/session-views.js'
import { visibleSites } from '../../../chat/visibility.js'
import { AdminSession, ErrorBody, Id, IdParams, Nullable, Ok, ok } from '../../../http/schemas.js'
import { staffOf } from '../../../http/staff.js'

const AssignBody = Type.Object({
  userId: Nullable(Id({ format: 'uuid', description: 'the assignee; null unassigns' })),
}, { additionalProperties: false })

export default (async (app) => {
  app.post('/sessions/:id/assign', {
    schema: {
      summary: 'Assign a session (take, hand over, unassign)',
      description: [
        'An agent may assign the session to themselves or unassign themselves (403 otherwise); an admin may assign anyone who works on',
        'the session\'s site (400 otherwise). Manual assignment is not held to the site\'s auto-assignment cap. Dashboards get `session.updated`; the audit log records it (session.assigned).',
      ].join(' '),
      tags: ['chat'],
      security: [{ bearer: [] }],
      params: IdParams,
      body: AssignBody,
      response: { 200: Ok(Type.Object({ session: AdminSession })), '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.admin },
    preParsing: app.requireStaff,
  }, async (req) => {
    const staff = staffOf(req)
    // assignments are in the audit log (who gave which chat to whom), as Telegram's /take
    const { session, changed } = await assignSession(app.db, app.bus, staff, req.params.id, req.body.userId, { id: staff.id, name: staff.name })
    // whoever had it may have a free slot now
    if (changed) app.assigner.kick()
    return ok({ session: app.files.linkFor(req).session(await getAdminSession(app.db, session.id, visibleSites(staff))) })
  })
}) satisfies FastifyPluginAsyncTypebox
