import fp from 'fastify-plugin'
import { Gauge, Histogram } from 'prom-client'
import websocket from '@fastify/websocket'
import { Hub } from '../realtime/hub.js'
import { CloseCode } from '../realtime/peers.js'
import { startListener } from '../realtime/listener.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** live sockets of this process; `hub.onEvent` / `hub.onResync` for anything else that reacts to chat events */
    hub: Hub
  }
}

/** WebSockets fed by one LISTEN connection per process (the routes live in routes/{public,admin}/socket.ts). */
export default fp<{ databaseUrl: string }>(async (app, opts) => {
  const { config } = app
  const lag = new Histogram({
    name: 'chat_notification_lag_seconds',
    help: 'From a message\'s commit to this instance reading it for its sockets',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [app.metrics],
  })
  const hub = new Hub({
    db: app.db,
    log: app.log,
    heartbeatMs: config.wsHeartbeatMs,
    maxBufferedBytes: config.wsMaxBufferedBytes,
    sweepMs: config.wsSweepMs,
    verifyStaffToken: (token) => app.verifyStaffToken(token),
    observeLagMs: (ms) => lag.observe(Math.max(0, ms) / 1000),
  })
  app.decorate('hub', hub)
  // site changes made by other instances (rotation, origins) reach this one's site cache
  hub.onEvent((event) => {
    if (event.k === 'site') app.forgetSites()
  })
  hub.onResync(() => app.forgetSites())
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
  await app.register(websocket, { options: { maxPayload: config.bodyLimitBytes } })
  const listener = await startListener(opts.databaseUrl, {
    onEvent: (event) => hub.handle(event),
    onReconnect: () => {
      app.log.warn('chat_events listener reconnected; catching sockets up')
      hub.resync()
    },
  })
  app.addHook('onClose', async () => {
    await listener.close()
  })
}, { name: 'realtime', dependencies: ['db', 'auth', 'metrics'] })
