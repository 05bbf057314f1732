import fp from 'fastify-plugin'
import { isUuid } from '../chat/ids.js'
import { markVisitorsSeen } from '../chat/visitor-seen.js'
import { startLoop } from '../jobs/loop.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** notes that the visitor of this session was just heard from (written with the next flush) */
    visitorSeen: (sessionId: string) => void
  }
}

/**
 * When visitors were last heard from, for "away" (offline emails): every public request on a
 * session and every open widget socket counts. Each instance gathers the session ids it heard
 * from and writes them in one statement per VISITOR_SEEN_FLUSH_MS (the sessions with an open
 * socket here are in every round), so neither polls nor sockets cost a write each, and an
 * instance that dies simply stops vouching for its visitors.
 */
export default fp(async (app) => {
  let heard = new Set<string>()
  app.decorate('visitorSeen', (sessionId: string) => {
    if (isUuid(sessionId)) heard.add(sessionId)
  })
  const flush = async () => {
    const ids = heard
    heard = new Set()
    for (const id of app.hub.watchedSessionIds()) ids.add(id)
    try {
      await markVisitorsSeen(app.db, [...ids])
    } catch (err) {
      // try these again next round rather than forget them
      for (const id of ids) heard.add(id)
      throw err
    }
  }
  const loop = startLoop(app.config.email.visitorSeenFlushMs, flush, (err) => app.log.warn({ err }, 'could not record when visitors were seen'))
  app.addHook('onClose', async () => {
    await loop.stop()
    await flush().catch(() => {})
  })
}, { name: 'visitor-seen', dependencies: ['db', 'realtime'] })
