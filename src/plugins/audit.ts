import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { recordAudit, type AuditInput } from '../chat/audit.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** records what the request's staff user did (after the change succeeded) */
    audit: (req: FastifyRequest, entry: Omit<AuditInput, 'actor'>) => Promise<void>
  }
}

/** The audit log for routes: the actor is the request's staff user. */
export default fp(async (app) => {
  app.decorate('audit', async (req: FastifyRequest, entry: Omit<AuditInput, 'actor'>) => {
    const actor = req.staff ? { id: req.staff.id, name: req.staff.name } : null
    await recordAudit(app.db, { ...entry, actor })
  })
}, { name: 'audit', dependencies: ['db'] })
