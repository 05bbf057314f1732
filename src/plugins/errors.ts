import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { ChatError } from '../chat/errors.js'
import { envelopeFor } from '../http/errors.js'

/** The one place errors become the `{ success: false, error }` envelope. */
export default fp(async (app) => {
  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = envelopeFor(err, req.log)
    if (err instanceof ChatError && err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds))
    return reply.code(status).type('application/json; charset=utf-8').send(body)
  })
  app.setNotFoundHandler((req, reply) => {
    return reply.code(404).send({ success: false, error: { code: 'NOT_FOUND', message: `Route ${req.method} ${req.url.split('?')[0]} not found` } })
  })
}, { name: 'errors' })

