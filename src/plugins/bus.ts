import { hostname } from 'node:os'
import fp from 'fastify-plugin'
import type { RealtimeBus } from '../realtime/bus.js'
import { PostgresBus } from '../realtime/postgres-bus.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** the realtime bus (realtime/bus.ts): pass it to the domain's writing functions, subscribe to react to events */
    bus: RealtimeBus
  }
}

/**
 * The realtime bus of this instance, as REALTIME_BUS says: Postgres NOTIFY (default) or NATS.
 * Closed (what is pending sent) before the pool it may publish on.
 */
export default fp<{ databaseUrl: string }>(async (app, opts) => {
  const { config } = app
  const bus: RealtimeBus = config.realtimeBus === 'nats'
    // the NATS client is loaded only when used (start-up time)
    ? await (await import('../realtime/nats-bus.js')).NatsBus.connect({ servers: config.natsServers, name: `livechat ${hostname()} ${process.pid}`, log: app.log })
    : new PostgresBus({ sql: app.sql, databaseUrl: opts.databaseUrl, log: app.log })
  app.decorate('bus', bus)
  // onClose hooks run last-registered first: this one before the db plugin's
  app.addHook('onClose', () => bus.close())
}, { name: 'bus', dependencies: ['db'] })
