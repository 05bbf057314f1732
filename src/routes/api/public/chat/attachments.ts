import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import multipart from '@fastify/multipart'
import { receiveUpload, UPLOAD_DESCRIPTION } from '../../../../http/uploads.js'
import { Attachment, ErrorBody, IdParams, Ok, ok } from '../../../../http/schemas.js'

export const UploadReply = Ok(Type.Object({ attachment: Attachment }))

const security: { [name: string]: string[] }[] = [{ apiKey: [], sessionToken: [] }, { apiKey: [], apiSecret: [] }]

export default (async (app) => {
  // multipart bodies are accepted by the upload routes only; every other route takes JSON
  await app.register(multipart)

  app.post('/sessions/:id/attachments', {
    schema: {
      summary: 'Upload a file to attach to a visitor message',
      description: `${UPLOAD_DESCRIPTION} The id is good for one visitor message of this session. Limited to RATE_LIMIT_UPLOADS_PER_MINUTE per session and RATE_LIMIT_UPLOADS_IP_PER_MINUTE per client IP.`,
      tags: ['public'],
      security,
      consumes: ['multipart/form-data'],
      params: IdParams,
      response: { 201: UploadReply, '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.public },
    preParsing: app.requireSessionCredentials,
    preHandler: [app.limits.checkVisitorUploadIp, app.limits.checkUpload],
  }, async (req, reply) => {
    if (!req.site) throw new Error('requireSessionCredentials did not run')
    const attachment = await receiveUpload(app, req, { sessionId: req.params.id, scope: [req.site.id], uploader: 'visitor' })
    return reply.code(201).send(ok({ attachment }))
  })
}) satisfies FastifyPluginAsyncTypebox
