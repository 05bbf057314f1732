import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import type { WebSocket } from 'ws'
import { ChatError, forbidden, unauthorized } from '../../../../chat/errors.js'
import { MAX_AFTER, sendMessage } from '../../../../chat/messages.js'
import { getSiteSession, markVisitorRead } from '../../../../chat/sessions.js'
import { originAllowed } from '../../../../chat/sites.js'
import { upgradeRequired } from '../../../../http/errors.js'
import { clientAddress } from '../../../../plugins/limits.js'
import { parseClientFrame, PONG_FRAME, sendError, WIDGET_FRAMES } from '../../../../realtime/frames.js'
import { CloseCode, cutOffWhenBacklogged } from '../../../../realtime/peers.js'
import type { WatchedSession } from '../../../../realtime/rooms.js'
import { ErrorBody, IdParams } from '../../../../http/schemas.js'

export const SocketQuery = Type.Object({
  apiKey: Type.Optional(Type.String({ maxLength: 128, description: 'the site key (browsers cannot set headers on a WebSocket)' })),
  token: Type.Optional(Type.String({ maxLength: 256, description: 'the session token; the site secret is never accepted in a URL' })),
  after: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_AFTER, description: 'the last seq the client holds: every later message is sent first (above the session\'s lastSeq: nothing yet, then what comes)' })),
})

const MAX_FRAMES_IN_FLIGHT = 32

const tooManyFrames = () => new ChatError(429, 'RATE_LIMITED', `More than ${MAX_FRAMES_IN_FLIGHT} frames are waiting; wait for the answers`)

// sockets close when their tabs do; a few seconds is a fair wait before trying again
const CAP_RETRY_AFTER_S = 5
const capReached = (cap: 'session' | 'address') => new ChatError(429, 'RATE_LIMITED', cap === 'session'
  ? 'Too many sockets are open for this session; close one (another tab) or poll'
  : 'Too many sockets are open from this address', undefined, CAP_RETRY_AFTER_S)

export default (async (app) => {
  app.route({
    method: 'GET',
    url: '/sessions/:id/ws',
    schema: {
      summary: 'Live updates for one session (WebSocket)',
      description: [
        'Upgrade to a WebSocket; authenticated before the upgrade (401 and no socket for a wrong key or token, 404 for another site\'s session,',
        '403 when a browser\'s Origin is not one of the site\'s origins). The server sends every message with `seq > after` in order, then',
        '`{type:"message",message}`, `{type:"session",session:{id,status}}`, `{type:"typing",sender:"agent",name}` (an agent is typing:',
        'show it until their message arrives or 5 s pass without another) and `{type:"read",reader:"agent",seq}` frames. The client may send',
        '`{type:"message",text,clientMessageId,attachments}` (the rules of POST /sessions/:id/messages; failures come back as',
        '`{type:"error",error:{code,message},clientMessageId}`), `{type:"typing"}` (at most every 2 s while the visitor types),',
        '`{type:"read",seq}` (the rules of POST /sessions/:id/read) and `{type:"ping"}` (answered by `{type:"pong"}`).',
        'At most WS_MAX_PER_SESSION sockets per session and WS_MAX_PER_IP per client address (per instance): beyond, the upgrade is 429 (or the socket is closed with 1013).',
        'Messages sent on the socket spend the same per-session and per-address budgets as HTTP sends; read marks spend the per-address budget of the HTTP read route.',
        'Close codes: 1012 server restarting, 1013 temporary failure or too many sockets, 4008 too slow — reconnect with after=<last seq> in all three;',
        '4001 the site key was rotated. See the README.',
      ].join(' '),
      tags: ['public'],
      params: IdParams,
      querystring: SocketQuery,
      response: { '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.public },
    preHandler: async (req) => {
      const { apiKey, token } = req.query
      if (!apiKey) throw unauthorized('apiKey query parameter is required')
      const site = await app.siteByApiKey(apiKey)
      if (!token || !app.sessionTokenValid(req.params.id, token)) throw unauthorized('Wrong or missing session token')
      // Browsers always send Origin on a WebSocket and CORS does not apply to it, so the site's
      // origins are checked here; clients without Origin (back ends, apps) are not browsers.
      const origin = req.headers.origin
      if (origin !== undefined && !originAllowed(site, origin)) throw forbidden('This origin is not allowed for the site')
      req.site = site
      req.chatSession = await getSiteSession(app.db, site.id, req.params.id)
      const over = app.widgetSocketCaps.over(req.chatSession.id, clientAddress(req))
      if (over) throw capReached(over)
    },
    handler: async () => {
      throw upgradeRequired()
    },
    wsHandler: (socket, req) => {
      const { chatSession, site } = req
      if (!chatSession || !site) throw new Error('the preHandler did not run')
      // an `after` beyond the session's last message means "nothing yet": from here on, what comes
      const after = Math.min(req.query.after ?? 0, chatSession.lastSeq)
      // only these strings outlive the upgrade: the request, its headers and the rows stay behind
      serveWidgetSocket(app, socket, {
        sessionId: chatSession.id, siteId: site.id, apiKey: site.apiKey, origin: app.files.originOf(req), ip: req.ip,
      }, after)
    },
  })
}) satisfies FastifyPluginAsyncTypebox

/** What an open widget socket keeps of its upgrade. */
type WidgetSocket = WatchedSession & { ip: string }

/**
 * An open widget socket. Kept apart from the route so that its listeners close over a few
 * strings rather than the upgrade's request (bench/idle.ts: the request, its raw headers and
 * logger stayed reachable from every idle socket).
 */
function serveWidgetSocket(app: FastifyInstance, socket: WebSocket, widget: WidgetSocket, after: number): void {
  const { sessionId, siteId, ip } = widget
  const address = clientAddress({ ip })
  // counted as it opens: two upgrades may both have passed the check before
  const release = app.widgetSocketCaps.take(sessionId, address)
  if (!release) return socket.close(CloseCode.tryAgainLater, 'too many sockets')
  socket.on('close', () => {
    release()
    // while open, the socket keeps its visitor present (plugins/visitor-seen.ts); away counts from its close
    app.visitorSeen(sessionId)
  })
  app.hub.watchSession(socket, { sessionId, siteId, apiKey: widget.apiKey, origin: widget.origin }, after)
  // Frames of one socket are handled one after another, so its messages keep their order;
  // a client that keeps sending without waiting is told to slow down rather than queued.
  let previous = Promise.resolve()
  let inFlight = 0
  socket.on('message', (data, isBinary) => {
    if (cutOffWhenBacklogged(socket, app.config.wsMaxBufferedBytes)) return
    if (inFlight >= MAX_FRAMES_IN_FLIGHT) return sendError(socket, tooManyFrames(), app.log)
    inFlight++
    previous = previous.then(async () => {
      let clientMessageId: string | null | undefined
      try {
        const frame = parseClientFrame(data, isBinary, WIDGET_FRAMES)
        if (frame.type === 'ping') return socket.send(PONG_FRAME)
        if (frame.type === 'typing') return app.typing.visitor(siteId, sessionId)
        if (frame.type === 'read') {
          await app.limits.checkSocketRead(sessionId, ip)
          return void await markVisitorRead(app.db, app.bus, siteId, sessionId, frame.seq)
        }
        clientMessageId = frame.clientMessageId
        await app.limits.checkSocketSend(sessionId, ip)
        // the stored message reaches this socket (and every other) as a `message` frame;
        // it carries the session's current name, read by the same statement
        await sendMessage(app.db, app.bus, {
          sessionId, scope: [siteId], sender: 'visitor', text: frame.text ?? '', clientMessageId: clientMessageId ?? null, attachments: frame.attachments,
        })
      } catch (err) {
        sendError(socket, err, app.log, clientMessageId)
      } finally {
        inFlight--
      }
    })
  })
}
