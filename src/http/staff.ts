import type { FastifyRequest } from 'fastify'
import { unauthorized } from '../chat/errors.js'
import type { User } from '../chat/users.js'

/** The logged-in user of a route behind requireStaff/requireAdmin. */
export function staffOf(req: FastifyRequest): User {
  if (!req.staff) throw unauthorized()
  return req.staff
}
