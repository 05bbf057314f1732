import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { unauthorized } from '../../chat/errors.js'
import { staffTokenHash } from '../../chat/revocations.js'
import { parseClientFrame, PONG_FRAME, sendError } from '../../realtime/frames.js'
import { upgradeRequired } from '../public/socket.js'
import { ErrorBody } from '../schemas.js'

const SocketQuery = Type.Object({
  token: Type.Optional(Type.String({ maxLength: 4096, description: 'the JWT from POST /api/auth/login' })),
})

export default (async (app) => {
  app.route({
    method: 'GET',
    url: '/ws',
    schema: {
      summary: 'Live updates for the dashboard (WebSocket)',
      description: [
        'Upgrade to a WebSocket with `?token=<JWT>` (401 and no socket when it is missing, expired or revoked).',
        'Frames: `{type:"session.created",session}`, `{type:"session.updated",session}` (admin session view),',
        '`{type:"message.created",message}` for every session, and `{type:"resync"}` when events may have been missed (refetch through the REST API).',
        'The client may send `{type:"ping"}`. Close codes: 4001 token expired or revoked (log in again); 1012, 1013, 4008: reconnect and refetch.',
      ].join(' '),
      tags: ['chat'],
      querystring: SocketQuery,
      response: { '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.admin },
    preHandler: async (req) => {
      if (!req.query.token) throw unauthorized('token query parameter is required')
      req.staff = await app.verifyStaffToken(req.query.token)
    },
    handler: async () => {
      throw upgradeRequired()
    },
    wsHandler: (socket, req) => {
      const { staff } = req
      if (!staff) throw new Error('the preHandler did not run')
      const token = req.query.token ?? ''
      app.hub.addDashboard(socket, { userId: staff.id, token, tokenHash: staffTokenHash(token), expiresAt: app.staffTokenExpiry(token) })
      socket.on('message', (data, isBinary) => {
        try {
          parseClientFrame(data, isBinary, ['ping'])
          socket.send(PONG_FRAME)
        } catch (err) {
          sendError(socket, err, app.log)
        }
      })
    },
  })
}) satisfies FastifyPluginAsyncTypebox
