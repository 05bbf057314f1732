import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { unauthorized } from '../../../chat/errors.js'
import { upgradeRequired } from '../../../http/errors.js'
import { parseClientFrame, PONG_FRAME, sendError } from '../../../realtime/frames.js'
import { ErrorBody } from '../../../http/schemas.js'

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
        'Frames, for the sessions of the sites the user may see only: `{type:"session.created",session}`, `{type:"session.updated",session}` (admin session view),',
        '`{type:"message.created",message}`, `{type:"note.created",note}`; `{type:"user.updated",user}` when the user themselves changed (availability, sites);',
        'and `{type:"resync"}` when events may have been missed (refetch through the REST API).',
        'While the socket is open the user counts as online (when their availability is online).',
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
      const exp = req.query.token ? app.jwt.decode<{ exp?: number }>(req.query.token)?.exp : undefined
      app.hub.addDashboard(socket, staff, exp === undefined ? undefined : new Date(exp * 1000))
      // the user is online while a dashboard of theirs is open (and their availability says so)
      app.presence.connected(staff.id, staff.availability)
      socket.once('close', () => app.presence.disconnected(staff.id))
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
