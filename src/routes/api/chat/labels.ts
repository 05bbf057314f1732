import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { labelsInUse, MAX_LABELS } from '../../../chat/labels.js'
import { setLabels } from '../../../chat/labels.js'
import { getAdminSession } from '../../../chat/session-views.js'
import { visibleSites } from '../../../chat/visibility.js'
import { AdminSession, ErrorBody, IdParams, Ok, ok } from '../../../http/schemas.js'
import { staffOf } from '../../../http/staff.js'

// the rules themselves (characters, case, count after folding) are checked by chat/labels.ts, with a message naming the label
const LabelsBody = Type.Object({
  labels: Type.Array(Type.String({ maxLength: 64 }), { maxItems: MAX_LABELS * 2 }),
}, { additionalProperties: false })

export default (async (app) => {
  const tags = ['chat']
  const security = [{ bearer: [] }]

  app.put('/sessions/:id/labels', {
    schema: {
      summary: 'Set a session\'s labels',
      description: `Each label 1–32 letters, digits, \`_\` or \`-\`; case-insensitive, stored lower-case; sorted and unique; at most ${MAX_LABELS}.`,
      tags, security, params: IdParams, body: LabelsBody,
      response: { 200: Ok(Type.Object({ session: AdminSession })), '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.admin },
    preParsing: app.requireStaff,
  }, async (req) => {
    const staff = staffOf(req)
    const session = await setLabels(app.db, app.bus, staff, req.params.id, req.body.labels)
    return ok({ session: app.files.linkFor(req).session(await getAdminSession(app.db, session.id, visibleSites(staff))) })
  })

  app.get('/labels', {
    schema: {
      summary: 'Labels in use on the sessions the caller sees, most used first',
      tags, security,
      response: { 200: Ok(Type.Object({ labels: Type.Array(Type.Object({ name: Type.String(), count: Type.Integer() })) })), '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.admin },
    preParsing: app.requireStaff,
  }, async (req) => ok({ labels: await labelsInUse(app.db, staffOf(req)) }))
}) satisfies FastifyPluginAsyncTypebox
