import { randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'
import { SiteAvailability } from '../realtime/availability.js'
import { Presence } from '../realtime/presence.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** who is online across instances (realtime/presence.ts); the dashboard socket route reports its sockets here */
    presence: Presence
    /** the public availability answer per site, from memory (realtime/availability.ts) */
    siteAvailability: SiteAvailability
    /** told when a user comes online (auto-assignment re-runs); set by the assignment plugin */
    onAgentOnline: Set<(userId: string) => void>
  }
}

/** A word on presence holds for this many heartbeats: one or two lost events change nothing. */
const TTL_HEARTBEATS = 3

/** Presence over the bus's ephemeral events: no database write per heartbeat, ever. */
export default fp(async (app) => {
  const heartbeatMs = app.config.presenceHeartbeatMs
  const onAgentOnline = new Set<(userId: string) => void>()
  const presence = new Presence({
    instance: randomUUID(),
    publisher: app.bus,
    heartbeatMs,
    ttlMs: heartbeatMs * TTL_HEARTBEATS,
    onChange: (userId, online) => {
      siteAvailability.presenceChanged()
      if (online) for (const fn of onAgentOnline) fn(userId)
    },
  })
  const siteAvailability = new SiteAvailability(app.db, presence)
  app.decorate('presence', presence)
  app.decorate('siteAvailability', siteAvailability)
  app.decorate('onAgentOnline', onAgentOnline)
  await app.bus.subscribe({
    onEvent: (event) => {
      presence.handle(event)
      if (event.k === 'user') siteAvailability.forget(event.user)
    },
    onReconnect: () => {
      siteAvailability.forget()
      presence.requestSync()
    },
  })
  // an instance that has just started knows nobody yet: the others repeat themselves now
  presence.requestSync()
  // before the bus closes (onClose hooks run last-registered first), so the word gets out
  app.addHook('onClose', async () => presence.close())
}, { name: 'presence', dependencies: ['db', 'bus'] })
