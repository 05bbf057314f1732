import { Type, type StringOptions, type TSchema } from '@sinclair/typebox'
import { MAX_TEXT_CHARS } from '../chat/messages.js'
import { CANONICAL_UUID } from './schema-compilers.js'

/** Shapes shared by several route files; each route keeps its own request schemas beside it. */

export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
/** One of these strings; for input, since a union of literals makes Ajv report every branch. */
export const StringEnum = <const T extends readonly string[]>(values: T, options: { default?: T[number] } = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options })
/**
 * A string or null in a reply. Nullable's anyOf costs fast-json-stringify an Ajv call per
 * branch for every value it writes (a poll of five messages made ~35 of them); a type list is
 * written with a typeof check. Replies only: request schemas keep Nullable.
 */
export const NullableString = () => Type.Unsafe<string | null>({ type: ['string', 'null'] })
// Handlers hand over Date objects; the serialiser writes them as ISO 8601 UTC with milliseconds.
export const DateTime = Type.Unsafe<Date | string>({ type: 'string', format: 'date-time' })

/**
 * An id in a path, a query string, a body or a socket frame: a uuid in it reaches the handler
 * lower-case (chat/ids.ts `canonicalUuid`), however the client spelled it. Routes' validators
 * (http/schema-compilers.ts) and frames' (realtime/frames.ts) honour the mark. Request
 * schemas only: replies carry ids as Postgres writes them.
 */
export const Id = (options: StringOptions = { maxLength: 64 }) => Type.String({ ...options, [CANONICAL_UUID]: true })
export const IdParams = Type.Object({ id: Id() })

export const Attachment = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  contentType: Type.String({ description: 'checked from the content: image/png, image/jpeg, image/gif, image/webp, application/pdf, text/plain, DOCX or XLSX' }),
  size: Type.Integer({ minimum: 0, description: 'bytes' }),
})

/** An attachment as messages carry it: with a signed URL that opens the file without headers. */
export const LinkedAttachment = Type.Object({
  ...Attachment.properties,
  url: Type.String({ description: 'absolute, signed, expires (ATTACHMENT_URL_TTL_SECONDS, default 1 h); works on every instance; a new poll or frame gives a fresh one' }),
})

export const Message = Type.Object({
  id: Type.String({ format: 'uuid' }),
  sessionId: Type.String({ format: 'uuid' }),
  seq: Type.Integer({ minimum: 1 }),
  // an enum, not a union of literals: serialised without a validator call (NullableString)
  sender: StringEnum(['visitor', 'agent', 'bot', 'system']),
  senderName: NullableString(),
  text: Type.String(),
  clientMessageId: NullableString(),
  attachments: Type.Array(LinkedAttachment, { description: 'always present; [] when none' }),
  createdAt: DateTime,
})

export const Rating = Type.Object({
  score: Type.Integer({ minimum: 1, maximum: 5 }),
  comment: Nullable(Type.String()),
  createdAt: DateTime,
})

const publicSessionFields = {
  id: Type.String({ format: 'uuid' }),
  userSessionId: Type.String(),
  status: Type.Union([Type.Literal('open'), Type.Literal('closed')]),
  name: Nullable(Type.String()),
  phone: Nullable(Type.String()),
  createdAt: DateTime,
  lastSeq: Type.Integer({ minimum: 0 }),
  visitorReadSeq: Type.Integer({ minimum: 0, description: 'the visitor has seen every message up to this seq' }),
  agentReadSeq: Type.Integer({ minimum: 0, description: 'an agent has seen every message up to this seq' }),
  hasEmail: Type.Boolean({ description: 'the session has an email address: the transcript can be emailed' }),
  rating: Nullable(Rating),
}

export const PublicSession = Type.Object(publicSessionFields)

export const AdminSession = Type.Object({
  ...publicSessionFields,
  email: Nullable(Type.String()),
  pageUrl: Nullable(Type.String()),
  locale: Nullable(Type.String()),
  siteId: Type.String({ format: 'uuid' }),
  lastMessage: Nullable(Message),
  lastMessageAt: Nullable(DateTime),
  unreadCount: Type.Integer({ minimum: 0 }),
  assignedTo: Nullable(Type.Object({ id: Type.String({ format: 'uuid' }), name: Type.String() }, { description: 'who handles the chat' })),
  labels: Type.Array(Type.String(), { description: 'sorted, lower-case' }),
  closedAt: Nullable(DateTime),
  firstResponseAt: Nullable(DateTime),
  updatedAt: DateTime,
})

export const User = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.String(),
  name: Type.String(),
  role: Type.Union([Type.Literal('admin'), Type.Literal('agent')]),
  disabled: Type.Boolean(),
  telegramUserId: Nullable(Type.Integer()),
  siteIds: Nullable(Type.Array(Type.String({ format: 'uuid' }), { description: 'the sites the user works on; null: all' })),
  availability: Type.Union([Type.Literal('online'), Type.Literal('away')]),
  online: Type.Boolean({ description: 'a dashboard of theirs is open (on any instance) and their availability is online' }),
  createdAt: DateTime,
})

/** Input: the sites a user works on (each must exist), or null for all. */
export const SiteIds = Nullable(Type.Array(Id({ format: 'uuid' }), { maxItems: 1000 }))

export const Note = Type.Object({
  id: Type.String({ format: 'uuid' }),
  sessionId: Type.String({ format: 'uuid' }),
  text: Type.String(),
  author: Type.Object({ id: Nullable(Type.String({ format: 'uuid' })), name: Type.String() }),
  createdAt: DateTime,
})

export const ErrorBody = Type.Object({
  success: Type.Literal(false),
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Array(Type.Unknown())),
  }),
})

/** `{ success: true, data }` */
export const Ok = <T extends TSchema>(data: T) => Type.Object({ success: Type.Literal(true), data })

export const ok = <T>(data: T) => ({ success: true as const, data })

/**
 * A success that is not JSON (a file, a text, a stream), documented under its own media type;
 * the route's errors stay in the JSON envelope ('4xx': ErrorBody). Fastify's `produces` would
 * have put them under that media type too.
 */
export const NotJson = <T extends TSchema>(mediaType: string, description: string, schema: T) => ({ description, content: { [mediaType]: { schema } } })

/**
 * A message's text as sent. The rule (1–4000 characters once trimmed, in code points) is
 * chat/messages.ts's, which says what is wrong; this bound only stops a huge string early.
 */
export const MessageText = Type.String({ maxLength: 20_000, description: `1–${MAX_TEXT_CHARS} characters once trimmed (counted in code points), stored untrimmed; required unless attachments are given` })

export const AttachmentIds = Type.Array(Id(), {
  maxItems: 5, description: 'ids from the upload route (at most 5); `text` may then be empty',
})
export const ClientMessageId = Type.String({ minLength: 1, maxLength: 64 })

// Field formats the seed's forms send; stored as given.
export const Name = Type.String({ maxLength: 100 })
export const Phone = Type.String({ maxLength: 32, pattern: '^[0-9 +()\\-]*$' })
export const Email = Type.String({ maxLength: 254, format: 'email' })
export const PageUrl = Type.String({ maxLength: 2048 })
export const Locale = Type.String({ maxLength: 35, pattern: '^[A-Za-z]{2,8}([_-][A-Za-z0-9]{1,8})*$' })

const DeliveryStatus = Type.Union([Type.Literal('pending'), Type.Literal('done'), Type.Literal('failed')])

/** One outbox row as admins see it: where it goes, how it went, and what it carries. */
export const Delivery = Type.Object({
  id: Type.Integer(),
  eventId: Type.String({ format: 'uuid' }),
  siteId: Type.String({ format: 'uuid' }),
  channel: Type.Union([Type.Literal('telegram'), Type.Literal('webhook'), Type.Literal('email')]),
  webhookId: Nullable(Type.String()),
  sessionId: Nullable(Type.String()),
  kind: Type.String(),
  status: DeliveryStatus,
  attempts: Type.Integer(),
  nextAttemptAt: DateTime,
  lastError: Nullable(Type.String()),
  createdAt: DateTime,
  doneAt: Nullable(DateTime),
  payload: Type.Record(Type.String(), Type.Unknown()),
})

export const DeliveryQuery = Type.Object({
  status: Type.Optional(DeliveryStatus),
  before: Type.Optional(Type.Integer({ minimum: 1, description: 'only rows with a smaller id (paging)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
})
