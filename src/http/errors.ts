import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyError, FastifyRequest } from 'fastify'
import { ChatError, validationError } from '../chat/errors.js'
import { isDatabaseDown } from '../db/availability.js'

export { isDatabaseDown }

/** How any error becomes the `{ success: false, error }` envelope: HTTP replies and socket error frames alike. */

export type ErrorEnvelope = { success: false; error: { code: string; message: string; details?: unknown[] } }

const CODE_BY_STATUS: Record<number, string> = {
  400: 'VALIDATION_ERROR',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'UNAVAILABLE',
}

/**
 * Postgres class 22 ("data exception") means a value the client sent cannot be stored or
 * compared: a NUL character in text (Postgres text cannot hold U+0000), a number or date out
 * of range. Text is stored verbatim, so such input is refused (400), never altered or a 500.
 */
export function isUnstorableValue(err: unknown): boolean {
  const e = err as { code?: unknown; cause?: unknown } | undefined
  if (!e || typeof e !== 'object') return false
  if (typeof e.code === 'string' && /^22[0-9A-Z]{3}$/.test(e.code)) return true
  return e.cause !== undefined && e.cause !== err && isUnstorableValue(e.cause)
}

type AjvIssue = { instancePath?: string; keyword?: string; message?: string; params?: Record<string, unknown> }

/**
 * For a field of a union (a value or null, an email or '') Ajv reports every branch: "must be
 * null", "must be equal to constant", "must match a schema in anyOf". When the same field also
 * has a failure of its main branch, only that one says what is wrong with the value sent.
 */
const isUnionNoise = (i: AjvIssue) => i.keyword === 'anyOf' || i.keyword === 'const' || (i.keyword === 'type' && i.params?.type === 'null')

function describeValidation(all: AjvIssue[], context: string | undefined): { message: string; details: unknown[] } {
  const explained = new Set(all.filter((i) => !isUnionNoise(i)).map((i) => i.instancePath))
  const issues = all.filter((i) => !isUnionNoise(i) || !explained.has(i.instancePath))
  const details = issues.map((i) => {
    const base = i.instancePath ? i.instancePath.replace(/^\//, '').replace(/\//g, '.') : ''
    const missing = typeof i.params?.missingProperty === 'string' ? i.params.missingProperty : undefined
    const extra = typeof i.params?.additionalProperty === 'string' ? i.params.additionalProperty : undefined
    const field = [base, missing ?? extra].filter(Boolean).join('.') || context || 'body'
    const message = extra ? `unknown field "${extra}"` : missing ? `${missing} is required` : `${field} ${i.message ?? 'is invalid'}`
    return { field, location: context, message }
  })
  return { message: details.map((d) => d.message).join('; ') || 'Invalid request', details }
}

/** A body field the route does not take (API.md: rejected with 400, not ignored), said as Ajv's are. */
export function unknownFieldError(field: string): ChatError {
  return validationError(`unknown field "${field}"`, [{ field, location: 'body', message: `unknown field "${field}"` }])
}

export function envelopeFor(err: FastifyError | ChatError | Error, log?: FastifyRequest['log']): { status: number; body: ErrorEnvelope } {
  if (err instanceof ChatError) {
    return { status: err.status, body: { success: false, error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } } }
  }
  const fe = err as FastifyError & { validation?: AjvIssue[]; validationContext?: string }
  if (fe.validation) {
    const { message, details } = describeValidation(fe.validation, fe.validationContext)
    return { status: 400, body: { success: false, error: { code: 'VALIDATION_ERROR', message, details } } }
  }
  if (isUnstorableValue(err)) {
    log?.info('a request value was refused by the database (Postgres class 22)')
    const message = 'A value cannot be stored: text must not contain NUL (U+0000) characters, and numbers and dates must be in range'
    return { status: 400, body: { success: false, error: { code: 'VALIDATION_ERROR', message } } }
  }
  // a client that went away in the middle of its body is ECONNRESET too, but Fastify gives
  // errors reading the request a 4xx statusCode; the database's never carry one
  const clientStatus = typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500 ? fe.statusCode : undefined
  if (isDatabaseDown(err) && clientStatus === undefined) {
    log?.warn({ err }, 'database unavailable')
    return { status: 503, body: { success: false, error: { code: 'UNAVAILABLE', message: 'The service is temporarily unavailable; try again shortly' } } }
  }
  const status = clientStatus ?? 500
  if (status === 500) {
    log?.error({ err }, 'unhandled error')
    return { status, body: { success: false, error: { code: 'INTERNAL', message: 'Internal server error' } } }
  }
  // Fastify's own client errors (bad JSON, body too large, media type, ...): their messages carry no internals
  const message = fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
    ? 'Content-Type must be application/json'
    : fe.code === 'FST_ERR_BAD_URL' ? 'The URL is not valid (a malformed %-escape)' : fe.message
  return { status, body: { success: false, error: { code: CODE_BY_STATUS[status] ?? 'BAD_REQUEST', message } } }
}

/** A socket route answers a plain HTTP request (no upgrade) with 426. */
export const upgradeRequired = () => new ChatError(426, 'UPGRADE_REQUIRED', 'Connect with a WebSocket client')

/**
 * Answers what Node's HTTP parser refuses before any route runs (headers too large, a
 * malformed request line, a request that took too long) in the envelope too; Fastify's
 * default writes a body of its own shape.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const [status, code, message] = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? [408, 'TIMEOUT', 'The request took too long to arrive']
    : err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'HEADERS_TOO_LARGE', 'The request headers are too large']
      : [400, 'VALIDATION_ERROR', 'The request is not valid HTTP']
  const body = JSON.stringify({ success: false, error: { code, message } })
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy(err)
}
