/**
 * How each table of the schema is laid out on Citus (docs/scaling.md, "Step 4"): a small,
 * global *reference* table copied to every worker, or a per-site table *distributed by
 * site_id*, co-located with chat_sessions. One list for the whole schema: the catalog test
 * (test/db/citus-keys.test.ts) fails on a table missing here, and checks the key rule for
 * every distributed one: site_id NOT NULL, in the primary key and every unique key, and in
 * every foreign key to another distributed table; no reference table points at one.
 */
export type Distribution = 'reference' | 'distributed'

export const DISTRIBUTION_COLUMN = 'site_id'

export const TABLE_DISTRIBUTION: Readonly<Record<string, Distribution>> = {
  // reference: small, read everywhere, growing with configuration rather than with traffic
  sites: 'reference',
  users: 'reference',
  app_settings: 'reference',
  revoked_tokens: 'reference',
  // site_id null is a response shared by every site, so site_id cannot be its distribution column
  canned_responses: 'reference',
  // read when outbox rows are written; a few per site
  webhooks: 'reference',
  // who did what across sites (site_id may be null): logins and settings, not messages
  audit_log: 'reference',
  // S3 objects to delete, written by a trigger on chat_attachments; names no site
  file_deletions: 'reference',
  // distributed by site_id: one conversation's rows, growing with traffic
  chat_sessions: 'distributed',
  chat_messages: 'distributed',
  chat_notes: 'distributed',
  chat_attachments: 'distributed',
  chat_attachment_chunks: 'distributed',
  outbox: 'distributed',
  telegram_messages: 'distributed',
  resume_links: 'distributed',
  // sessions erased in the last hour, for the realtime sweep
  recent_erasures: 'distributed',
}
