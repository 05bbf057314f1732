import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler'
import type { FastifyBaseLogger } from 'fastify'
import type { RawData, WebSocket } from 'ws'
import { ChatError, loneSurrogateError, validationError } from '../chat/errors.js'
import { canonicalUuid } from '../chat/ids.js'
import { envelopeFor } from '../http/errors.js'
import { MAX_AFTER } from '../chat/messages.js'
import { CANONICAL_UUID } from '../http/schema-compilers.js'
import { loneSurrogateAt } from '../http/lone-surrogates.js'
import { AttachmentIds, ClientMessageId, Id, Nullable } from '../http/schemas.js'

/** What a widget may send: the HTTP send route's body with a type, typing, a read mark, or a ping. */
export const MessageFrame = Type.Object({
  type: Type.Literal('message'),
  text: Type.Optional(Type.String({ maxLength: 20_000 })),
  clientMessageId: Type.Optional(Nullable(ClientMessageId)),
  attachments: Type.Optional(AttachmentIds),
}, { additionalProperties: false })
export const PingFrame = Type.Object({ type: Type.Literal('ping') }, { additionalProperties: false })
/** The dashboard socket's first frame: its JWT, kept out of the URL (proxies log URLs). */
const AuthFrame = Type.Object({ type: Type.Literal('auth'), token: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false })
const VisitorTypingFrame = Type.Object({ type: Type.Literal('typing') }, { additionalProperties: false })
const ReadFrame = Type.Object({ type: Type.Literal('read'), seq: Type.Integer({ minimum: 0, maximum: MAX_AFTER }) }, { additionalProperties: false })
/** What a dashboard may send: typing in a session's reply box, or a ping. */
const AgentTypingFrame = Type.Object({ type: Type.Literal('typing'), sessionId: Id() }, { additionalProperties: false })

// per frame checker, its fields marked `Id` (or lists of them): a uuid in them is lower-cased once the frame passes
const idFieldsOf = new WeakMap<TypeCheck<TSchema>, string[]>()

const isId = (schema: TSchema | undefined) => schema?.[CANONICAL_UUID] === true

function compileFrame<T extends TSchema>(schema: T): TypeCheck<T> {
  const checker = TypeCompiler.Compile(schema)
  const properties: Record<string, TSchema> = schema.properties ?? {}
  const idFields = Object.keys(properties).filter((field) => isId(properties[field]) || isId(properties[field]?.items))
  if (idFields.length > 0) idFieldsOf.set(checker, idFields)
  return checker
}

const compile = <T extends Record<string, TSchema>>(schemas: T) =>
  Object.fromEntries(Object.entries(schemas).map(([k, v]) => [k, compileFrame(v)])) as { [K in keyof T]: TypeCheck<T[K]> }

/** The frames each kind of socket accepts, by type. */
export const WIDGET_FRAMES = compile({ message: MessageFrame, typing: VisitorTypingFrame, read: ReadFrame, ping: PingFrame })
export const DASHBOARD_FRAMES = compile({ typing: AgentTypingFrame, ping: PingFrame })
/** A dashboard socket opened without a token in its URL accepts only this first. */
export const DASHBOARD_AUTH_FRAMES = compile({ auth: AuthFrame })

type FrameSet = Record<string, TypeCheck<TSchema>>
/** A frame one of the checkers in the set accepts. */
export type FrameOf<S extends FrameSet> = { [K in keyof S]: S[K] extends TypeCheck<infer T> ? Static<T> : never }[keyof S]

export const PONG_FRAME = JSON.stringify({ type: 'pong' })

/** A frame of the right shape refused for its content; the error names the message it would have sent, as a refused send does. */
class FrameRefused extends ChatError {
  constructor(cause: ChatError, readonly clientMessageId: string | undefined) {
    super(cause.status, cause.code, cause.message, cause.details)
  }
}

/** A text frame holding one JSON object of a type in the set; anything else is a VALIDATION_ERROR. */
export function parseClientFrame<S extends FrameSet>(data: RawData, isBinary: boolean, frames: S): FrameOf<S> {
  if (isBinary) throw validationError('Frames must be JSON text')
  let text: string
  let value: unknown
  try {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)
    text = bytes.toString('utf8')
    value = JSON.parse(text)
  } catch {
    throw validationError('Frame is not valid JSON')
  }
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined
  const checker = typeof type === 'string' && Object.hasOwn(frames, type) ? frames[type] : undefined
  if (checker === undefined) throw validationError(`type must be one of: ${Object.keys(frames).join(', ')}`, [{ field: 'type', message: 'unknown frame type' }])
  const issue = checker.Errors(value).First()
  if (issue) {
    const field = issue.path.replace(/^\//, '').replace(/\//g, '.') || 'frame'
    throw validationError(`${field}: ${issue.message}`, [{ field, message: issue.message }])
  }
  const frame = value as Record<string, unknown>
  // as for request bodies (app.ts)
  const loneSurrogate = loneSurrogateAt(text, frame)
  if (loneSurrogate !== undefined) {
    throw new FrameRefused(loneSurrogateError(loneSurrogate), typeof frame.clientMessageId === 'string' ? frame.clientMessageId : undefined)
  }
  for (const field of idFieldsOf.get(checker) ?? []) {
    const id = frame[field]
    if (typeof id === 'string') frame[field] = canonicalUuid(id)
    else if (Array.isArray(id)) frame[field] = id.map((item: unknown) => (typeof item === 'string' ? canonicalUuid(item) : item))
  }
  return value as FrameOf<S>
}

/** `{ type: 'error', error }` in the envelope's error shape, with the clientMessageId it answers when known. */
export function sendError(socket: WebSocket, err: unknown, log: FastifyBaseLogger, clientMessageId?: string | null): void {
  const { body } = envelopeFor(err instanceof Error ? err : new ChatError(500, 'INTERNAL', 'Internal server error'), log)
  if (err instanceof FrameRefused) clientMessageId ??= err.clientMessageId
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ type: 'error', error: body.error, ...(clientMessageId ? { clientMessageId } : {}) }))
}

/** A frame as each origin needs it; built once per origin, and once in all for frames without files. */
export type OriginFrame = (origin: string) => string

export function originFrame(build: (origin: string) => string, dependsOnOrigin: boolean): OriginFrame {
  if (!dependsOnOrigin) {
    let frame: string | undefined
    return (origin) => (frame ??= build(origin))
  }
  const frames = new Map<string, string>()
  return (origin) => {
    let frame = frames.get(origin)
    if (frame === undefined) frames.set(origin, (frame = build(origin)))
    return frame
  }
}
