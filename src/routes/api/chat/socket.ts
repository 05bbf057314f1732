import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { unauthorized } from '../../../chat/errors.js'
import { upgradeRequired } from '../../../http/errors.js'
import { DASHBOARD_FRAMES, parseClientFrame, PONG_FRAME, sendError } from '../../../realtime/frames.js'
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
        'Frames: `{type:"session.created",session}`, `{type:"session.updated",session}` (admin session view),',
        '`{type:"message.created",message}` for every session, `{type:"typing",sessionId,sender:"visitor"}` (the visitor is typing: show it',
        'until their message arrives or 5 s pass without another), `{type:"read",sessionId,reader:"visitor",seq}`, and `{type:"resync"}` when',
        'events may have been missed (refetch through the REST API). The client may send `{type:"typing",sessionId}` (at most every 2 s',
        'while the agent types; the session\'s widgets see the agent\'s name) and `{type:"ping"}`. Close codes: 4001 token expired or revoked (log in again); 1012, 1013, 4008: reconnect and refetch.',
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
      app.hub.addDashboard(socket, staff.id, exp === undefined ? undefined : new Date(exp * 1000), app.files.originOf(req))
      socket.on('message', (data, isBinary) => {
        try {
          const frame = parseClientFrame(data, isBinary, DASHBOARD_FRAMES)
          if (frame.type === 'ping') return socket.send(PONG_FRAME)
          app.typing.agent(staff, frame.sessionId).catch((err: unknown) => sendError(socket, err, app.log))
        } catch (err) {
          sendError(socket, err, app.log)
        }
      })
    },
  })
}) satisfies FastifyPluginAsyncTypebox
