import { Type, type Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { FastifyBaseLogger } from 'fastify'
import type { RawData, WebSocket } from 'ws'
import { ChatError, validationError } from '../chat/errors.js'
import { envelopeFor } from '../http/errors.js'
import { ClientMessageId, Nullable } from '../http/schemas.js'

/** What a widget may send: the HTTP send route's body with a type, or a ping. */
const MessageFrame = Type.Object({
  type: Type.Literal('message'),
  text: Type.String({ maxLength: 20_000 }),
  clientMessageId: Type.Optional(Nullable(ClientMessageId)),
}, { additionalProperties: false })
const PingFrame = Type.Object({ type: Type.Literal('ping') }, { additionalProperties: false })
/** The dashboard socket's first frame: its JWT, kept out of the URL (proxies log URLs). */
const AuthFrame = Type.Object({ type: Type.Literal('auth'), token: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false })

const checkers = { message: TypeCompiler.Compile(MessageFrame), ping: TypeCompiler.Compile(PingFrame), auth: TypeCompiler.Compile(AuthFrame) }

export type ClientFrame = Static<typeof MessageFrame> | Static<typeof PingFrame> | Static<typeof AuthFrame>
export type ClientFrameType = keyof typeof checkers

export const PONG_FRAME = JSON.stringify({ type: 'pong' })

/** A text frame holding one JSON object of an accepted type; anything else is a VALIDATION_ERROR. */
export function parseClientFrame<T extends ClientFrameType>(data: RawData, isBinary: boolean, accepted: readonly T[]): Extract<ClientFrame, { type: T }> {
  if (isBinary) throw validationError('Frames must be JSON text')
  let value: unknown
  try {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)
    value = JSON.parse(bytes.toString('utf8'))
  } catch {
    throw validationError('Frame is not valid JSON')
  }
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined
  const kind = accepted.find((t) => t === type)
  if (kind === undefined) throw validationError(`type must be one of: ${accepted.join(', ')}`, [{ field: 'type', message: 'unknown frame type' }])
  const checker = checkers[kind]
  const issue = checker.Errors(value).First()
  if (issue) {
    const field = issue.path.replace(/^\//, '').replace(/\//g, '.') || 'frame'
    throw validationError(`${field}: ${issue.message}`, [{ field, message: issue.message }])
  }
  return value as Extract<ClientFrame, { type: T }>
}

/** `{ type: 'error', error }` in the envelope's error shape, with the clientMessageId it answers when known. */
export function sendError(socket: WebSocket, err: unknown, log: FastifyBaseLogger, clientMessageId?: string | null): void {
  const { body } = envelopeFor(err instanceof Error ? err : new ChatError(500, 'INTERNAL', 'Internal server error'), log)
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ type: 'error', error: body.error, ...(clientMessageId ? { clientMessageId } : {}) }))
}
