/**
 * Tables of sites, staff and conversations (sessions, messages, notes, files). What leaves
 * the building and the operator's records: schema-delivery.ts. Both are exported by schema.ts.
 */
import { sql } from 'drizzle-orm'
import {
  type AnyPgColumn,
  bigint,
  bigserial,
  boolean,
  customType,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core'

// Every timestamp is stored with millisecond precision: the wire format has milliseconds,
// and `since=<createdAt>` must compare exactly against what the client was sent.
export const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: 'date' })

export type BotSettings = {
  name?: string
  greeting?: string
  offHoursText?: string
  timeZone?: string
  // weekday 0 (Sunday) .. 6 → [open "HH:MM", close "HH:MM"]; a missing day is closed all day
  hours?: Partial<Record<'0' | '1' | '2' | '3' | '4' | '5' | '6', [string, string]>>
  followUpMinutes?: number
  followUpText?: string
}

export const sites = pgTable('sites', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  apiKey: text('api_key').notNull(),
  apiSecretHash: text('api_secret_hash').notNull(),
  origins: text('origins').array().notNull().default(sql`'{}'::text[]`),
  // encrypted at rest (see chat/secret-box.ts); the bot id, the token's public part, finds sites by bot
  telegramBotToken: text('telegram_bot_token'),
  telegramBotId: text('telegram_bot_id'),
  telegramChatId: text('telegram_chat_id'),
  // any member of the managers' group may answer and /close, not only agents linked by Telegram user id
  telegramAnyMember: boolean('telegram_any_member').notNull().default(false),
  // X-API-Secret accepted from browsers (the original guide's widget ships it in page code)
  legacyBrowserSecret: boolean('legacy_browser_secret').notNull().default(false),
  bot: jsonb('bot').$type<BotSettings>(),
  /** closed sessions older than this many days are erased by the retention job; null keeps them */
  retentionDays: integer('retention_days'),
  // new sessions go to an online agent of the site with the fewest open assigned ones, below the cap
  autoAssign: boolean('auto_assign').notNull().default(false),
  maxOpenPerAgent: integer('max_open_per_agent').notNull().default(5),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
}, (t) => [uniqueIndex('sites_api_key_uq').on(t.apiKey), index('sites_telegram_bot_idx').on(t.telegramBotId, t.telegramChatId)])

export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  email: text('email').notNull(),
  name: text('name').notNull(),
  passwordHash: text('password_hash').notNull(),
  role: text('role', { enum: ['admin', 'agent'] }).notNull(),
  disabled: boolean('disabled').notNull().default(false),
  // bumped on password change and disabling, so tokens issued before stop working
  tokenVersion: integer('token_version').notNull().default(0),
  telegramUserId: bigint('telegram_user_id', { mode: 'number' }),
  // the sites this user works on; null: every site (see chat/visibility.ts)
  siteIds: uuid('site_ids').array(),
  // the user's own switch; online also needs an open dashboard socket (realtime/presence.ts)
  availability: text('availability', { enum: ['online', 'away'] }).notNull().default('online'),
  // auto-assignment's tie-break: who waited longest since their last assignment goes first
  lastAssignedAt: ts('last_assigned_at'),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
}, (t) => [uniqueIndex('users_email_uq').on(t.email)])

/** The one text the staff search matches contact fields in; the index and the query must use this same expression. */
export function contactSearchText(t: { name: AnyPgColumn; phone: AnyPgColumn; email: AnyPgColumn }) {
  return sql`(coalesce(${t.name}, '') || ' ' || coalesce(${t.phone}, '') || ' ' || coalesce(${t.email}, ''))`
}

// Per-site tables (distributed by site_id on Citus, see src/db/distribution.ts) carry site_id
// in every primary and unique key, last: lookups by id or by session keep using the index, and
// Citus finds the distribution column in each key. Foreign keys between them name the site too.
// Every send updates its session's row (last_seq, last_message_at, ...): no index may cover a
// column a send sets, so that the update is HOT (a new row version on the same page, no new
// entry in any of the indexes below), and the table leaves room on each page for it
// (fillfactor, migration 0011). The staff list sorts by activity without an index (it counts
// every matching session anyway); the realtime sweep finds recent activity through
// chat_messages_created_idx, and recent closes through chat_sessions_recently_closed_idx.
export const chatSessions = pgTable('chat_sessions', {
  id: uuid('id').notNull().defaultRandom(),
  siteId: uuid('site_id').notNull().references(() => sites.id, { onDelete: 'cascade' }),
  userSessionId: text('user_session_id').notNull(),
  status: text('status', { enum: ['open', 'closed'] }).notNull().default('open'),
  name: text('name'),
  phone: text('phone'),
  email: text('email'),
  pageUrl: text('page_url'),
  locale: text('locale'),
  userAgent: text('user_agent'),
  lastSeq: integer('last_seq').notNull().default(0),
  lastMessageAt: ts('last_message_at'),
  lastVisitorMessageAt: ts('last_visitor_message_at'),
  unreadCount: integer('unread_count').notNull().default(0),
  // read receipts: the highest seq the visitor / an agent has seen; they only move forward
  visitorReadSeq: integer('visitor_read_seq').notNull().default(0),
  agentReadSeq: integer('agent_read_seq').notNull().default(0),
  assignedTo: uuid('assigned_to').references(() => users.id, { onDelete: 'set null' }),
  firstResponseAt: ts('first_response_at'),
  closedAt: ts('closed_at'),
  botFollowUpAt: ts('bot_follow_up_at'),
  telegramThreadId: bigint('telegram_thread_id', { mode: 'number' }),
  /**
   * When the visitor was last heard from (a public request or an open widget socket), written
   * in batches by each instance (chat/visitor-seen.ts), never before the real moment: a visitor
   * is away when this is older than VISITOR_AWAY_MS.
   */
  visitorSeenAt: ts('visitor_seen_at').defaultNow(),
  /** agent replies up to this seq were emailed (or seen) already; offline emails carry the later ones */
  emailedSeq: integer('emailed_seq').notNull().default(0),
  /** agent replies to an away visitor until this time join the email already due then */
  emailBatchUntil: ts('email_batch_until'),
  /** the visitor clicked List-Unsubscribe: no more offline emails for this conversation */
  emailOptOut: boolean('email_opt_out').notNull().default(false),
  /** the visitor's rating after the chat (1–5), stored once */
  ratingScore: integer('rating_score'),
  ratingComment: text('rating_comment'),
  ratedAt: ts('rated_at'),
  assignedAt: ts('assigned_at'),
  // sorted, unique, lower-case (chat/labels.ts)
  labels: text('labels').array().notNull().default(sql`'{}'::text[]`),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
}, (t) => [
  primaryKey({ name: 'chat_sessions_pkey', columns: [t.id, t.siteId] }),
  // one open conversation per visitor id and site; closed ones are history
  uniqueIndex('chat_sessions_open_visitor_uq').on(t.siteId, t.userSessionId).where(sql`status = 'open'`),
  // a visitor id's closed sessions, which a new session of that id must prove it owns
  index('chat_sessions_visitor_idx').on(t.siteId, t.userSessionId),
  index('chat_sessions_site_created_idx').on(t.siteId, t.createdAt),
  // the retention job's scan: closed sessions by age
  index('chat_sessions_closed_idx').on(t.siteId, t.closedAt).where(sql`status = 'closed'`),
  // the realtime sweep's recent closes, over every site (a close writes indexed columns anyway; a send never sets these)
  index('chat_sessions_recently_closed_idx').on(t.closedAt).where(sql`status = 'closed'`),
  index('chat_sessions_rated_idx').on(t.ratedAt).where(sql`rated_at is not null`),
  // an agent's open load (auto-assignment's cap, the "Mine" list)
  index('chat_sessions_assignee_open_idx').on(t.assignedTo).where(sql`status = 'open'`),
  // what auto-assignment still has to place
  index('chat_sessions_unassigned_idx').on(t.siteId, t.createdAt).where(sql`status = 'open' and assigned_to is null`),
  index('chat_sessions_labels_idx').using('gin', t.labels),
  // stats over a date range
  index('chat_sessions_created_idx').on(t.createdAt),
  // staff search: substring matches (ilike '%...%') over the contact fields through pg_trgm
  index('chat_sessions_contact_trgm_idx').using('gin', sql`${contactSearchText(t)} gin_trgm_ops`),
])

/** A per-site row's conversation: (session_id, site_id) → chat_sessions, deleted with it. */
export const sessionFk = (table: string, t: { sessionId: AnyPgColumn; siteId: AnyPgColumn }) =>
  foreignKey({ name: `${table}_session_fk`, columns: [t.sessionId, t.siteId], foreignColumns: [chatSessions.id, chatSessions.siteId] }).onDelete('cascade')

export const chatMessages = pgTable('chat_messages', {
  id: uuid('id').notNull().defaultRandom(),
  siteId: uuid('site_id').notNull(),
  sessionId: uuid('session_id').notNull(),
  seq: integer('seq').notNull(),
  sender: text('sender', { enum: ['visitor', 'agent', 'bot', 'system'] }).notNull(),
  senderName: text('sender_name'),
  text: text('text').notNull(),
  clientMessageId: text('client_message_id'),
  agentId: uuid('agent_id').references(() => users.id, { onDelete: 'set null' }),
  // A copy of the attached files' metadata (it never changes), written by the statement that
  // stores the message, so that reading messages never joins chat_attachments; null: none.
  attachments: jsonb('attachments').$type<AttachedFile[]>(),
  createdAt: ts('created_at').notNull(),
}, (t) => [
  primaryKey({ name: 'chat_messages_pkey', columns: [t.id, t.siteId] }),
  sessionFk('chat_messages', t),
  uniqueIndex('chat_messages_session_seq_uq').on(t.sessionId, t.seq, t.siteId),
  uniqueIndex('chat_messages_client_id_uq').on(t.sessionId, t.clientMessageId, t.siteId),
  // stats over a date range
  index('chat_messages_created_idx').on(t.createdAt),
  // staff search: substring matches in message text through pg_trgm instead of a scan of every message
  index('chat_messages_text_trgm_idx').using('gin', sql`${t.text} gin_trgm_ops`),
])

// Private notes staff leave on a conversation. A table of their own, apart from messages:
// they take no seq, and nothing that serves visitors, Telegram or webhooks reads this table.
export const chatNotes = pgTable('chat_notes', {
  id: uuid('id').notNull().defaultRandom(),
  siteId: uuid('site_id').notNull(),
  sessionId: uuid('session_id').notNull(),
  authorId: uuid('author_id').references(() => users.id, { onDelete: 'set null' }),
  // kept so that a note still says who wrote it after the user is gone
  authorName: text('author_name').notNull(),
  text: text('text').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
}, (t) => [
  primaryKey({ name: 'chat_notes_pkey', columns: [t.id, t.siteId] }),
  sessionFk('chat_notes', t),
  index('chat_notes_session_idx').on(t.sessionId, t.createdAt),
])

// Canned responses: per site, or shared by every site (site_id null). A shortcut is unique
// within its scope; two partial indexes, since NULLs never collide in a plain unique index.
export const cannedResponses = pgTable('canned_responses', {
  id: uuid('id').primaryKey().defaultRandom(),
  siteId: uuid('site_id').references(() => sites.id, { onDelete: 'cascade' }),
  shortcut: text('shortcut').notNull(),
  text: text('text').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
}, (t) => [
  uniqueIndex('canned_site_shortcut_uq').on(t.siteId, t.shortcut).where(sql`site_id is not null`),
  uniqueIndex('canned_shared_shortcut_uq').on(t.shortcut).where(sql`site_id is null`),
])
// Tokens signed out before they expire (POST /api/auth/logout), by the SHA-256 of the token,
// so that tokens issued before this table existed can be revoked too. Rows past their
// token's expiry are pruned.
export const revokedTokens = pgTable('revoked_tokens', {
  tokenHash: text('token_hash').primaryKey(),
  userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  expiresAt: ts('expires_at').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
}, (t) => [index('revoked_tokens_expires_idx').on(t.expiresAt)])

/** What a message shows of each attached file (the download URL is signed when it is sent to a client). */
export type AttachedFile = { id: string; name: string; contentType: string; size: number }

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' })

// A file uploaded to a session; linked to the one message that carries it when that is sent.
export const chatAttachments = pgTable('chat_attachments', {
  id: uuid('id').notNull().defaultRandom(),
  siteId: uuid('site_id').notNull(),
  sessionId: uuid('session_id').notNull(),
  messageId: uuid('message_id'),
  // who may attach it to a message: the visitor's uploads go in visitor messages, staff uploads in agent messages
  uploader: text('uploader', { enum: ['visitor', 'staff'] }).notNull(),
  name: text('name').notNull(),
  // checked from the content, never taken from the name or the client's header
  contentType: text('content_type').notNull(),
  size: integer('size').notNull().default(0),
  // where the bytes are: chat_attachment_chunks, or the S3 bucket under the id. Deleting a row
  // queues its S3 object in file_deletions (a trigger, so every way of erasing a session does it).
  storage: text('storage', { enum: ['postgres', 's3'] }).notNull(),
  // false while the bytes are being written; an upload that died midway is swept later
  complete: boolean('complete').notNull().default(false),
  createdAt: ts('created_at').notNull().defaultNow(),
}, (t) => [
  primaryKey({ name: 'chat_attachments_pkey', columns: [t.id, t.siteId] }),
  sessionFk('chat_attachments', t),
  foreignKey({ name: 'chat_attachments_message_fk', columns: [t.messageId, t.siteId], foreignColumns: [chatMessages.id, chatMessages.siteId] }).onDelete('cascade'),
  index('chat_attachments_session_idx').on(t.sessionId),
  index('chat_attachments_message_idx').on(t.messageId),
  index('chat_attachments_unsent_idx').on(t.createdAt).where(sql`message_id is null`),
])

// The bytes of files kept in Postgres, in chunks so that neither an upload nor a download
// holds a whole file in memory.
export const chatAttachmentChunks = pgTable('chat_attachment_chunks', {
  attachmentId: uuid('attachment_id').notNull(),
  siteId: uuid('site_id').notNull(),
  n: integer('n').notNull(),
  data: bytea('data').notNull(),
}, (t) => [
  primaryKey({ name: 'chat_attachment_chunks_pkey', columns: [t.attachmentId, t.n, t.siteId] }),
  foreignKey({ name: 'chat_attachment_chunks_attachment_fk', columns: [t.attachmentId, t.siteId], foreignColumns: [chatAttachments.id, chatAttachments.siteId] }).onDelete('cascade'),
])

// Files outside Postgres (S3 objects) whose attachment row is gone, until the object is deleted.
export const fileDeletions = pgTable('file_deletions', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  storage: text('storage', { enum: ['s3'] }).notNull(),
  key: text('key').notNull(),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: ts('next_attempt_at').notNull().defaultNow(),
  lastError: text('last_error'),
  createdAt: ts('created_at').notNull().defaultNow(),
}, (t) => [index('file_deletions_due_idx').on(t.nextAttemptAt)])
