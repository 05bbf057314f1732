import fp from 'fastify-plugin'
import { autoAssignSite, sitesAwaitingAssignment } from '../chat/assignment.js'
import type { Site } from '../chat/sites.js'
import { startLoop } from '../jobs/loop.js'

declare module 'fastify' {
  interface FastifyInstance {
    assigner: {
      /** a session was just created: with auto-assignment on, it goes to an agent now (never fails the caller) */
      newSession: (site: Site) => Promise<void>
      /** an agent may have freed up (a chat closed or unassigned): look for waiting chats soon */
      kick: () => void
    }
  }
}

/**
 * Auto-assignment: at once for a new chat, and in rounds on every instance (each site's
 * under its lock, chat/assignment.ts) every AUTO_ASSIGN_SWEEP_MS and whenever an agent
 * comes online or frees up. Nobody online: no round, no query.
 */
export default fp(async (app) => {
  const placeWaiting = async () => {
    const online = app.presence.onlineUserIds()
    if (online.length === 0) return
    for (const siteId of await sitesAwaitingAssignment(app.db)) await autoAssignSite(app.db, app.bus, siteId, online)
  }
  const rounds = startLoop(app.config.autoAssignSweepMs, placeWaiting, (err) => app.log.error({ err }, 'auto-assignment round failed'))
  app.onAgentOnline.add(() => rounds.wake())
  app.decorate('assigner', {
    newSession: async (site: Site) => {
      if (!site.autoAssign) return
      try {
        await autoAssignSite(app.db, app.bus, site.id, app.presence.onlineUserIds())
      } catch (err) {
        app.log.warn({ err, siteId: site.id }, 'could not auto-assign a new chat; the next round will')
        rounds.wake()
      }
    },
    kick: () => rounds.wake(),
  })
  app.addHook('onClose', () => rounds.stop())
}, { name: 'assignment', dependencies: ['db', 'bus', 'presence'] })
