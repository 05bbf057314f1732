import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { is } from 'drizzle-orm'
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core'
import type { FastifyInstance } from 'fastify'
import { backupToFile, type BackupFile } from '../../src/backup/backup.js'
import postgres from 'postgres'
import { runCli } from '../../src/cli.js'
import * as schema from '../../src/db/schema.js'
import { buildTestApp, freshDatabase } from './app.js'
import { createSite } from '../../src/chat/sites.js'
import { createWebhook } from '../../src/outbox/webhooks.js'
import { recordAudit } from '../../src/chat/audit.js'
import { rateSession } from '../../src/chat/ratings.js'
import { createResumeLink } from '../../src/chat/resume-links.js'
import { bearer, makeSession, makeStaff, replyRequest, sendRequest, type Staff, type TestSession, type TestSite } from './fixtures.js'
import { png } from './files.js'
import { visitorUpload } from './uploads.js'

/** Every table src/db/schema.ts declares, by its SQL name. */
export const schemaTables = (): string[] =>
  (Object.values(schema) as unknown[]).flatMap((value) => (is(value, PgTable) ? [getTableConfig(value).name] : [])).sort()

// Text Postgres and the COPY format must carry unchanged: tabs, newlines, backslashes, the
// end-of-data marker on a line of its own, quotes, non-Latin letters, an emoji.
export const AWKWARD_TEXT = 'tab\there\nnew line\r\n\\. alone:\n\\.\nback\\slash "quoted" \'single\' Привіт 🌻 {braces} NULL \\N'

export type Seeded = { site: TestSite; admin: Staff; open: TestSession; closed: TestSession }

/**
 * Puts realistic rows in every table of the schema, through the product's own functions
 * where it has them. A new table needs rows here: the backup test fails until it has some,
 * so no table is left out of the round-trip check.
 */
export async function seedEveryTable(app: FastifyInstance): Promise<Seeded> {
  const { site: row, apiSecret } = await createSite(app.db, app.secretBox, {
    name: 'Shop "Northwind" \\ Київ',
    origins: ['https://shop.example', 'https://www.shop.example'],
    telegramBotToken: '123456:AA-secret-bot-token',
    telegramChatId: '-1001234567890',
    bot: { name: 'Бот', greeting: AWKWARD_TEXT, hours: { '1': ['09:00', '18:00'] }, followUpMinutes: 5 },
  })
  const site: TestSite = { id: row.id, apiKey: row.apiKey, apiSecret }
  const admin = await makeStaff(app, 'admin', 'Olena "Admin"')
  const open = await makeSession(app, site, { name: 'Ann\tTab', phone: '+380 44 123 45 67', email: 'ann@example.com', pageUrl: 'https://shop.example/p?q=1&x=\\', firstMessage: AWKWARD_TEXT })
  const closed = await makeSession(app, site, { name: 'Bohdan', firstMessage: 'first' })
  for (const text of ['second', '\\.', 'x'.repeat(4000)]) await mustSucceed(app.inject(sendRequest(open, { text, clientMessageId: `c-${text.length}` })))
  await mustSucceed(app.inject(replyRequest(admin, open.id, 'An answer with a \\ and a\nnewline')))
  // an attachment (its row and its bytes in Postgres chunks) and an S3 object waiting to be deleted
  const image = await visitorUpload(app, open, png(64, 64), 'screen "1".png')
  await mustSucceed(app.inject(sendRequest(open, { text: '', attachments: [image.id] })))
  await mustSucceed(app.inject({ method: 'POST', url: `/api/chat/sessions/${closed.id}/close`, headers: bearer(admin) }))
  // the support team's workflow: a note, canned responses (site and shared), labels, an assignment, an agent of one site
  await mustSucceed(app.inject({ method: 'POST', url: `/api/chat/sessions/${open.id}/notes`, headers: bearer(admin), payload: { text: AWKWARD_TEXT } }))
  await mustSucceed(app.inject({ method: 'POST', url: '/api/chat/canned', headers: bearer(admin), payload: { shortcut: 'hello', text: AWKWARD_TEXT, siteId: site.id } }))
  await mustSucceed(app.inject({ method: 'POST', url: '/api/chat/canned', headers: bearer(admin), payload: { shortcut: 'hello', text: 'Hi {{visitor.name}}', siteId: null } }))
  await mustSucceed(app.inject({ method: 'PUT', url: `/api/chat/sessions/${open.id}/labels`, headers: bearer(admin), payload: { labels: ['billing', 'vip'] } }))
  await mustSucceed(app.inject({ method: 'POST', url: `/api/chat/sessions/${open.id}/assign`, headers: bearer(admin), payload: { userId: admin.id } }))
  await makeStaff(app, 'agent', 'Taras', [site.id])

  // hooks.example is not looked up here: the address guard has its own tests (webhook-addresses.test.ts)
  const hook = await createWebhook(app.db, app.secretBox, { allowPrivate: true }, site.id, 'https://hooks.example/chat?token=abc', ['message.created', 'session.closed'])
  // a signed-out token (revoked_tokens)
  await mustSucceed(app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(await makeStaff(app, 'agent', 'Taras')) }))
  const { sql } = app
  await sql`insert into outbox (site_id, channel, webhook_id, session_id, kind, payload, status, attempts, last_error)
    values (${site.id}, 'webhook', ${hook.id}, ${open.id}, 'message.created', ${`{"text": ${JSON.stringify(AWKWARD_TEXT)}, "big": 12345678901234567890, "nested": {"a": [1, 2.5, null, true, "é"]}}`}::jsonb, 'failed', 20, ${'HTTP 500\n<html>'})`
  await sql`insert into telegram_messages (chat_id, message_id, site_id, session_id) values ('-1001234567890', 9007199254740991, ${site.id}, ${open.id})`
  await sql`insert into app_settings (key, value) values ('backup.test', ${AWKWARD_TEXT}) on conflict do nothing`
  // an erasure moments ago (the realtime sweep's catch-up reads these; the session row is gone)
  await sql`insert into recent_erasures (site_id, session_id) values (${site.id}, ${'9f1c2d3e-0000-4000-8000-000000000002'})`
  await sql`insert into file_deletions (storage, key, attempts, last_error) values ('s3', ${'9f1c2d3e-0000-4000-8000-000000000001'}, 2, ${'503 SlowDown\n'})`
  await sql`update sites set retention_days = 30 where id = ${site.id}`
  await rateSession(app.db, app.bus, site.id, closed.id, { score: 4, comment: AWKWARD_TEXT })
  await createResumeLink(app.db, { siteId: site.id, sessionId: open.id }, 86_400_000)
  await recordAudit(app.db, { actor: { id: admin.id, name: 'Olena "Admin"' }, action: 'site.updated', target: site.id, siteId: site.id, details: { fields: ['retentionDays'], note: AWKWARD_TEXT } })
  return { site, admin, open, closed }
}

async function mustSucceed(response: Promise<{ statusCode: number; body: string }>): Promise<void> {
  const res = await response
  if (res.statusCode >= 300) throw new Error(`fixture request failed: ${res.statusCode} ${res.body}`)
}

/**
 * Every row of every product table as Postgres prints it, sorted: equal dumps mean equal data.
 * `columns` narrows a table to some of its columns (a comma-separated SQL list).
 */
export async function dumpRows(url: string, tables: string[], columns: Record<string, string> = {}): Promise<Record<string, string[]>> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connection: { TimeZone: 'UTC' } })
  try {
    const out: Record<string, string[]> = {}
    for (const table of tables) {
      const row = columns[table] ? `row(${columns[table]})` : 't'
      const rows = await sql.unsafe<{ row: string }[]>(`select ${row}::text as row from "${table}" t order by 1`)
      out[table] = rows.map((r) => r.row)
    }
    return out
  } finally {
    await sql.end()
  }
}

type Test = { teardown: (fn: () => unknown) => void }

/** A temporary folder, removed when the test ends. */
export function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'livechat-backup-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A connection named like the CLI's, which restore does not mistake for a running server. */
export function connect(t: Test, url: string): postgres.Sql {
  const sql = postgres(url, { max: 3, onnotice: () => {}, connection: { application_name: 'livechat-cli' } })
  t.teardown(() => sql.end())
  return sql
}


/**
 * A database seeded by seedEveryTable, then quiet (its app closed, so no worker changes a
 * row after the backup), and a backup of it. `beforeClose` adds to it while the app runs.
 */
export async function seededBackup(
  t: Test,
  opts: { key?: string; beforeClose?: (app: FastifyInstance, seeded: Seeded) => Promise<void> } = {},
): Promise<{ sourceUrl: string; file: string; seeded: Seeded; backup: BackupFile }> {
  const sourceUrl = await freshDatabase()
  const app = await buildTestApp(t, { databaseUrl: sourceUrl })
  const seeded = await seedEveryTable(app)
  await opts.beforeClose?.(app, seeded)
  await app.close()
  const file = join(tempDir(t), 'seeded.backup')
  const backup = await backupToFile(connect(t, sourceUrl), file, { key: opts.key })
  return { sourceUrl, file, seeded, backup }
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const run = promisify(execFile)

type CliResult = { code: number; stdout: string; stderr: string }

/**
 * The same command run in this process, with only these variables set: what `cli` checks
 * minus the process boundary, without starting npm, Node and tsx (seconds each here).
 */
export async function cliInProcess(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  const out: string[] = []
  const err: string[] = []
  const code = await runCli(args, env, { out: (text) => out.push(`${text}\n`), err: (text) => err.push(`${text}\n`) })
  return { code, stdout: out.join(''), stderr: err.join('') }
}

/** `npm run cli -- args` as an operator types it, with only these variables set. */
export async function cli(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run('npm', ['run', '--silent', 'cli', '--', ...args], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}
