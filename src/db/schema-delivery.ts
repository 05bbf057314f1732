/** Settings every instance shares, and what leaves the building (outbox, Telegram links, resume links) or records who did what (audit log, recent erasures). */
import { sql } from 'drizzle-orm'
import { bigint, bigserial, boolean, index, integer, jsonb, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core'
import { sessionFk, sites, ts, users } from './schema-core.js'

// Small key/value store for values every instance must agree on (e.g. a generated JWT
// secret when none is configured, the Telegram update offset).
export const appSettings = pgTable('app_settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
})

export const webhooks = pgTable('webhooks', {
  id: uuid('id').primaryKey().defaultRandom(),
  siteId: uuid('site_id').notNull().references(() => sites.id, { onDelete: 'cascade' }),
  url: text('url').notNull(),
  secret: text('secret').notNull(),
  events: text('events').array().notNull(),
  active: boolean('active').notNull().default(true),
  createdAt: ts('created_at').notNull().defaultNow(),
}, (t) => [
  // every send looks up its site's webhooks (messageOutboxCtes): without it, a scan of every site's
  index('webhooks_site_idx').on(t.siteId),
])

// Everything that leaves the building (Telegram, webhooks) is written here in the same
// transaction as the change it reports, then delivered by workers with retries.
// site_id and webhook_id have no foreign keys, on purpose: each key's check takes a FOR KEY
// SHARE lock on the one sites row and the one webhooks row that every send of a site writes
// under, and concurrent sends turn those locks into MultiXacts (a WAL record and a contended
// buffer each). Deleting a webhook deletes its rows in the same statement (deleteWebhook), and
// the worker drops a due row whose site or webhook is gone (claimDue).
// session_id has no foreign key either (migration 0010): its check ran once per outbox row, two
// per visitor send (an index probe and a FOR KEY SHARE on the session row the send already
// holds). Erasure deletes a session's rows in its transaction (eraseSessions), the worker drops
// a due row whose session is gone, and the retention job deletes the rows left by a
// previous release's erasure during a rolling upgrade (deleteOrphanedOutbox).
export const outbox = pgTable('outbox', {
  id: bigserial('id', { mode: 'number' }).notNull(),
  eventId: uuid('event_id').notNull().defaultRandom(),
  siteId: uuid('site_id').notNull(),
  channel: text('channel', { enum: ['telegram', 'webhook', 'email'] }).notNull(),
  webhookId: uuid('webhook_id'),
  sessionId: uuid('session_id'),
  kind: text('kind').notNull(),
  payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
  status: text('status', { enum: ['pending', 'done', 'failed'] }).notNull().default('pending'),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: ts('next_attempt_at').notNull().defaultNow(),
  lastError: text('last_error'),
  createdAt: ts('created_at').notNull().defaultNow(),
  doneAt: ts('done_at'),
}, (t) => [
  primaryKey({ name: 'outbox_pkey', columns: [t.id, t.siteId] }),
  index('outbox_due_idx').on(t.nextAttemptAt).where(sql`status = 'pending'`),
  // a session's delivered and failed rows, which erasure deletes (its pending ones it finds
  // through outbox_due_idx): a send's rows are pending, so no send writes this index
  index('outbox_session_finished_idx').on(t.siteId, t.sessionId).where(sql`status <> 'pending'`),
  // what the retention job prunes
  index('outbox_finished_idx').on(t.doneAt).where(sql`status <> 'pending'`),
  // what /metrics counts besides the pending rows (outbox_due_idx): rows given up on, which no
  // send writes (a row enters it only when it fails for good)
  index('outbox_failed_idx').on(t.status).where(sql`status = 'failed'`),
])

// Which Telegram message belongs to which conversation, so a manager's reply finds it.
export const telegramMessages = pgTable('telegram_messages', {
  chatId: text('chat_id').notNull(),
  messageId: bigint('message_id', { mode: 'number' }).notNull(),
  siteId: uuid('site_id').notNull(),
  sessionId: uuid('session_id').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
}, (t) => [
  primaryKey({ name: 'telegram_messages_pkey', columns: [t.chatId, t.messageId, t.siteId] }),
  sessionFk('telegram_messages', t),
  index('telegram_messages_created_idx').on(t.createdAt),
])

// A link in an offline email that reopens the conversation in any browser: the token is
// shown once (in the email), stored hashed, and works once.
export const resumeLinks = pgTable('resume_links', {
  tokenHash: text('token_hash').notNull(),
  siteId: uuid('site_id').notNull(),
  sessionId: uuid('session_id').notNull(),
  expiresAt: ts('expires_at').notNull(),
  usedAt: ts('used_at'),
  createdAt: ts('created_at').notNull().defaultNow(),
}, (t) => [
  primaryKey({ name: 'resume_links_pkey', columns: [t.tokenHash, t.siteId] }),
  sessionFk('resume_links', t),
  index('resume_links_session_idx').on(t.sessionId),
  index('resume_links_expiry_idx').on(t.expiresAt),
])

// Who did what: logins, user and site changes, assignments, erasures, exports. Details never
// hold a visitor's contact data; erasing a session clears the details of entries about it.
export const auditLog = pgTable('audit_log', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  at: ts('at').notNull().defaultNow(),
  actorId: uuid('actor_id').references(() => users.id, { onDelete: 'set null' }),
  /** the actor's name when it acted (a user can be renamed) */
  actorName: text('actor_name'),
  action: text('action').notNull(),
  target: text('target'),
  /** kept as long as this site's retention says (and AUDIT_RETENTION_DAYS at most) */
  siteId: uuid('site_id').references(() => sites.id, { onDelete: 'set null' }),
  details: jsonb('details').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
}, (t) => [index('audit_log_at_idx').on(t.at), index('audit_log_target_idx').on(t.target)])

// Sessions deleted lately, written by a trigger on chat_sessions (migration 0016) in the deleting
// transaction (an erasure, retention, a site deleted in the database): the
// realtime sweep closes the widget sockets of one whose `erased` event was lost, as it cannot
// find a row that is gone. Kept an hour (the retention job prunes them), far longer than the
// sweep looks back.
export const recentErasures = pgTable('recent_erasures', {
  siteId: uuid('site_id').notNull(),
  sessionId: uuid('session_id').notNull(),
  erasedAt: ts('erased_at').notNull().defaultNow(),
}, (t) => [
  primaryKey({ name: 'recent_erasures_pkey', columns: [t.sessionId, t.siteId] }),
  index('recent_erasures_erased_at_idx').on(t.erasedAt),
])
