import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import multipart from '@fastify/multipart'
import { getVisibleSession } from '../../../chat/visibility.js'
import { receiveUpload, UPLOAD_DESCRIPTION } from '../../../http/uploads.js'
import { Attachment, ErrorBody, IdParams, Ok, ok } from '../../../http/schemas.js'
import { staffOf } from '../../../http/staff.js'

export default (async (app) => {
  // multipart bodies are accepted by the upload routes only; every other route takes JSON
  await app.register(multipart)

  app.post('/sessions/:id/attachments', {
    schema: {
      summary: 'Upload a file to attach to an agent reply',
      description: `${UPLOAD_DESCRIPTION} The id is good for one agent reply in this session. A session of a site the caller does not see is a 404. Limited to RATE_LIMIT_UPLOADS_PER_MINUTE per session.`,
      tags: ['chat'],
      security: [{ bearer: [] }],
      consumes: ['multipart/form-data'],
      params: IdParams,
      response: { 201: Ok(Type.Object({ attachment: Attachment })), '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.admin },
    // the per-session budget is the visitor's too: only staff who see the session may spend it
    preParsing: app.requireStaff,
    preHandler: [async (req) => { req.chatSession = await getVisibleSession(app.db, staffOf(req), req.params.id) }, app.limits.checkUpload],
  }, async (req, reply) => {
    const session = req.chatSession
    if (!session) throw new Error('the preHandler did not run')
    const attachment = await receiveUpload(app, req, { session, uploader: 'staff' })
    return reply.code(201).send(ok({ attachment }))
  })
}) satisfies FastifyPluginAsyncTypebox
