import type { FastifyRequest, RouteOptions } from 'fastify'
import { validationError } from '../chat/errors.js'
import { unknownFieldError } from './errors.js'

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** No body, `{}` or an empty JSON body (clients often send the header on body-less POSTs such as /close). */
const isEmpty = (body: unknown) =>
  body === undefined || (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0)

async function refuseBody(req: FastifyRequest): Promise<void> {
  if (isEmpty(req.body)) return
  const field = typeof req.body === 'object' && req.body !== null && !Array.isArray(req.body) ? Object.keys(req.body)[0] : undefined
  if (field !== undefined) throw unknownFieldError(field)
  throw validationError('This route takes no body', [{ field: 'body', location: 'body', message: 'no body expected' }])
}

/**
 * onRoute: a route with no body schema takes no body. API.md rejects unknown body fields with
 * a 400 rather than ignoring them; on such a route every field is unknown (POST /close with
 * `{"status":"open"}` must not look like it did something else). Form bodies (one-click
 * unsubscribe) never land in `req.body` with fields.
 */
export function refuseBodyWhereNoneIsTaken(route: RouteOptions): void {
  const methods = [route.method].flat()
  // uploads declare what they consume and read their bodies themselves (415 for JSON there)
  if (route.schema?.body !== undefined || route.schema?.consumes !== undefined || !methods.some((m) => BODY_METHODS.has(m))) return
  route.preValidation = [...[route.preValidation ?? []].flat(), refuseBody]
}
