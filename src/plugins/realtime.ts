import fp from 'fastify-plugin'
import { Gauge, Histogram } from 'prom-client'
import websocket from '@fastify/websocket'
import { Hub } from '../realtime/hub.js'
import { CloseCode } from '../realtime/peers.js'
import { SocketCaps } from '../realtime/socket-caps.js'
import { TypingRelay } from '../realtime/typing.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** live sockets of this process */
    hub: Hub
    /** widget sockets per session and client address on this instance (WS_MAX_PER_SESSION, WS_MAX_PER_IP) */
    widgetSocketCaps: SocketCaps
    /** typing frames from sockets onto the bus (throttled, never stored) */
    typing: TypingRelay
  }
}

/** WebSockets fed by the realtime bus (the routes live in routes/api/public/chat/socket.ts and routes/api/chat/socket.ts). */
export default fp(async (app) => {
  const { config } = app
  const lag = new Histogram({
    name: 'chat_notification_lag_seconds',
    help: 'From a message\'s commit to this instance reading it, or receiving it with its event, for its sockets',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [app.metrics],
  })
  const sweeps = new Histogram({
    name: 'chat_sweep_seconds',
    help: 'How long each sweep for missed notifications took (one read of recent changes, and the catch-up it queued); it runs every WS_SWEEP_MS while sockets are open',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [app.metrics],
  })
  const hub = new Hub({
    db: app.db,
    log: app.log,
    heartbeatMs: config.wsHeartbeatMs,
    maxBufferedBytes: config.wsMaxBufferedBytes,
    sweepMs: config.wsSweepMs,
    // the user's own dashboards here say their new availability at once
    onUserChanged: (user) => app.presence.setAvailability(user.id, user.availability),
    verifyStaffToken: (token) => app.verifyStaffToken(token),
    links: app.files.links,
    observeLagMs: (ms) => lag.observe(Math.max(0, ms) / 1000),
    observeSweepMs: (ms) => sweeps.observe(ms / 1000),
  })
  app.decorate('hub', hub)
  app.decorate('widgetSocketCaps', new SocketCaps(config.wsMaxPerSession, config.wsMaxPerIp))
  app.decorate('typing', new TypingRelay(app.db, app.bus))
  new Gauge({
    name: 'chat_open_sockets',
    help: 'Open WebSockets of this instance by kind',
    labelNames: ['kind'] as const,
    registers: [app.metrics],
    collect() {
      this.set({ kind: 'widget' }, hub.widgetSocketCount)
      this.set({ kind: 'dashboard' }, hub.dashboardSocketCount)
    },
  })
  // Added before @fastify/websocket's own preClose, which would close without a code.
  app.addHook('preClose', async () => {
    hub.closeAll(CloseCode.restarting, 'server restarting: reconnect')
  })
  await app.register(websocket, {
    options: { maxPayload: config.bodyLimitBytes },
    // until a socket joins the hub (a dashboard before its auth frame) its errors come here;
    // a frame too large or not UTF-8 is the client's doing (ws has closed with 1009/1007), not the server's
    errorHandler: (err, socket, req) => {
      if (isClientProtocolError(err)) req.log.info({ err }, err.message)
      else req.log.error({ err }, err.message)
      socket.terminate()
    },
  })
  await app.bus.subscribe({
    onEvent: (event) => hub.handle(event),
    onReconnect: () => {
      app.log.warn('realtime bus reconnected; catching sockets up')
      hub.resync()
    },
  })
}, { name: 'realtime', dependencies: ['db', 'bus', 'auth', 'metrics', 'files', 'presence'] })

/** ws's errors for what a client sent (WS_ERR_UNSUPPORTED_MESSAGE_LENGTH, WS_ERR_INVALID_UTF8, ...). */
function isClientProtocolError(err: Error): boolean {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' && code.startsWith('WS_ERR_')
}
