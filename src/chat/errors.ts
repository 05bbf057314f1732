/** A failure the client caused or can act on; the error handler turns it into the envelope. */
export class ChatError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown[],
    /** sent as Retry-After */
    readonly retryAfterSeconds?: number,
  ) {
    super(message)
  }
}

export const validationError = (message: string, details?: unknown[]) => new ChatError(400, 'VALIDATION_ERROR', message, details)
export const unauthorized = (message = 'Authentication required') => new ChatError(401, 'UNAUTHORIZED', message)
export const forbidden = (message = 'Not allowed') => new ChatError(403, 'FORBIDDEN', message)
export const notFound = (what = 'Resource') => new ChatError(404, 'NOT_FOUND', `${what} not found`)
export const sessionClosed = () => new ChatError(409, 'SESSION_CLOSED', 'The session is closed')
export const conflict = (message: string) => new ChatError(409, 'CONFLICT', message)
/** A string holding a lone UTF-16 surrogate, which has no UTF-8 form (Postgres would store U+FFFD). */
export const loneSurrogateError = (field: string) =>
  validationError(`${field} is not valid Unicode`, [{ field, message: `${field} contains a lone surrogate` }])
/** Postgres text cannot hold U+0000; for a request body the detail says so, as the schema's own errors do. */
export const nulError = (field: string, location?: 'body') =>
  validationError(`${field} must not contain NUL (U+0000) characters`, [{ field, ...(location ? { location } : {}), message: `${field} contains a NUL character` }])
