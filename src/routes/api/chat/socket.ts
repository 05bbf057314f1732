import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { WebSocket } from 'ws'
import { staffTokenHash } from '../../../chat/revocations.js'
import type { User } from '../../../chat/users.js'
import { upgradeRequired } from '../../../http/errors.js'
import { DASHBOARD_AUTH_FRAMES, DASHBOARD_FRAMES, parseClientFrame, PONG_FRAME, sendError } from '../../../realtime/frames.js'
import { ErrorBody } from '../../../http/schemas.js'
import { CloseCode, cutOffWhenBacklogged } from '../../../realtime/peers.js'

/** How long a socket opened without a token in its URL has to send its `auth` frame. */
export const AUTH_FRAME_TIMEOUT_MS = 2_000

const SocketQuery = Type.Object({
  token: Type.Optional(Type.String({ maxLength: 4096, description: 'the JWT, for old clients; send it in the first frame instead (URLs end up in logs)' })),
})

export default (async (app) => {
  /**
   * Subscribes the socket to the events of the sites its user may see once its token holds;
   * frames from then on may only ping or say the agent types. The user is online while a
   * dashboard of theirs is open (and their availability says so).
   */
  function authenticated(socket: WebSocket, staff: User, token: string, origin: string): () => User {
    const current = app.hub.addDashboard(socket, staff, { token, tokenHash: staffTokenHash(token), expiresAt: app.staffTokenExpiry(token), origin })
    app.presence.connected(staff.id, staff.availability)
    socket.once('close', () => app.presence.disconnected(staff.id))
    return current
  }

  app.route({
    method: 'GET',
    url: '/ws',
    schema: {
      summary: 'Live updates for the dashboard (WebSocket)',
      description: [
        'Upgrade to a WebSocket, then send `{type:"auth",token:"<JWT>"}` as the first frame; a wrong token, or none within 2 s, closes the socket with 4001.',
        'Frames are answered in order, so a `{type:"ping"}` sent right after the auth frame is answered by `{type:"pong"}` once the socket is subscribed.',
        'Old clients may still pass `?token=<JWT>` (then a wrong token is 401 and no socket).',
        'Frames, for the sessions of the sites the user may see only: `{type:"session.created",session}`, `{type:"session.updated",session}` (admin session view),',
        '`{type:"message.created",message}`, `{type:"note.created",note}`, `{type:"typing",sessionId,sender:"visitor"}` (the visitor is typing: show it',
        'until their message arrives or 5 s pass without another), `{type:"read",sessionId,reader:"visitor",seq}`; `{type:"user.updated",user}` when the user',
        'themselves changed (availability, sites); and `{type:"resync"}` when events may have been missed (refetch through the REST API).',
        'The client may send `{type:"typing",sessionId}` (at most every 2 s while the agent types; the session\'s widgets see the agent\'s name) and `{type:"ping"}`.',
        'While the socket is authenticated and open the user counts as online (when their availability is online).',
        'Close codes: 4001 token missing, wrong, expired, signed out or revoked (log in again); 1012, 1013, 4008: reconnect and refetch.',
      ].join(' '),
      tags: ['chat'],
      querystring: SocketQuery,
      response: { '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.admin },
    preHandler: async (req) => {
      if (req.query.token) req.staff = await app.verifyStaffToken(req.query.token)
    },
    handler: async () => {
      throw upgradeRequired()
    },
    wsHandler: (socket, req) => {
      const origin = app.files.originOf(req)
      // the user as last re-read (sites, name): a membership change holds for this socket's typing at once
      let staff: (() => User) | undefined
      const subscribe = (user: User, token: string) => {
        staff = authenticated(socket, user, token, origin)
      }
      let pending: NodeJS.Timeout | undefined
      if (req.staff && req.query.token) {
        subscribe(req.staff, req.query.token)
      } else {
        pending = setTimeout(() => socket.close(CloseCode.unauthorized, 'authenticate with {type:"auth",token} first'), AUTH_FRAME_TIMEOUT_MS)
        socket.once('close', () => clearTimeout(pending))
      }
      // one frame after another, so a ping sent behind the auth frame is answered after it
      let previous = Promise.resolve()
      socket.on('message', (data, isBinary) => {
        if (cutOffWhenBacklogged(socket, app.config.wsMaxBufferedBytes)) return
        previous = previous.then(async () => {
          // frames queued before the cut-off are not answered either
          if (cutOffWhenBacklogged(socket, app.config.wsMaxBufferedBytes)) return
          if (staff) {
            try {
              const frame = parseClientFrame(data, isBinary, DASHBOARD_FRAMES)
              if (frame.type === 'ping') return socket.send(PONG_FRAME)
              app.typing.agent(staff(), frame.sessionId).catch((err: unknown) => sendError(socket, err, app.log))
            } catch (err) {
              sendError(socket, err, app.log)
            }
            return
          }
          clearTimeout(pending)
          try {
            const frame = parseClientFrame(data, isBinary, DASHBOARD_AUTH_FRAMES)
            const user = await app.verifyStaffToken(frame.token)
            if (socket.readyState !== socket.OPEN) return
            pending = undefined
            subscribe(user, frame.token)
          } catch {
            socket.close(CloseCode.unauthorized, 'authentication failed')
          }
        })
      })
    },
  })
}) satisfies FastifyPluginAsyncTypebox
