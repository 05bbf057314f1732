import t from 'tap'
import { readMigrations } from '../../src/db/migrate.js'

/**
 * Expand / migrate / contract (README, "Upgrading"): during a rolling upgrade the previous
 * release runs beside the new one on the migrated database, so a migration may add (tables,
 * nullable or defaulted columns, indexes) but not take away or change what the previous
 * release reads and writes. Removing something is a later release's "contract" step, once no
 * running release uses it, and says so in a `-- contract: <why it is safe now>` comment
 * in the same statement.
 */
const BREAKING: [RegExp, string][] = [
  [/\bdrop\s+(table|view|materialized\s+view|type|schema|sequence)\b/i, 'drops a table, view, type, schema or sequence'],
  [/\bdrop\s+column\b/i, 'drops a column'],
  [/\brename\b/i, 'renames something'],
  [/\balter\s+column\s+("[^"]+"|\w+)\s+(set\s+data\s+)?type\b/i, "changes a column's type"],
  [/\balter\s+column\s+("[^"]+"|\w+)\s+set\s+not\s+null\b/i, 'makes a column NOT NULL'],
  [/\badd\s+column\s+(if\s+not\s+exists\s+)?("[^"]+"|\w+)\s+(?:(?!\bdefault\b|\bgenerated\b)[^,;])*\bnot\s+null\b(?:(?!\bdefault\b|\bgenerated\b)[^,;])*(;|,|$)/i, 'adds a NOT NULL column without a default (the previous release inserts rows without it)'],
]
const CONTRACT = /--\s*contract:\s*\S/i

/** Why each statement of `sql` would break the previous release, if it would. */
function breakingChanges(sql: string): string[] {
  return sql.split(/--> statement-breakpoint|;\s*\n/).flatMap((statement) => {
    if (CONTRACT.test(statement)) return []
    const code = statement.replace(/--[^\n]*/g, ' ')
    return BREAKING.filter(([pattern]) => pattern.test(code)).map(([, why]) => `${why}: ${code.trim().slice(0, 120)}`)
  })
}

t.test('the additive-migration check catches what breaks the previous release and lets additions and marked contractions through', async (t) => {
  const bad = [
    'DROP TABLE "notes";',
    'ALTER TABLE "users" DROP COLUMN "telegram_user_id";',
    'ALTER TABLE "chat_sessions" RENAME COLUMN "name" TO "visitor_name";',
    'ALTER TABLE "sites" RENAME TO "websites";',
    'ALTER TABLE "chat_messages" ALTER COLUMN "seq" SET DATA TYPE bigint;',
    'ALTER TABLE "chat_sessions" ALTER COLUMN "email" SET NOT NULL;',
    'ALTER TABLE "chat_messages" ADD COLUMN "kind" text NOT NULL;',
  ]
  for (const sql of bad) t.equal(breakingChanges(sql).length, 1, sql)
  const fine = [
    'CREATE TABLE "notes" ("id" uuid PRIMARY KEY NOT NULL, "text" text NOT NULL);',
    'ALTER TABLE "chat_messages" ADD COLUMN "kind" text DEFAULT \'text\' NOT NULL;',
    'ALTER TABLE "chat_sessions" ADD COLUMN "rating" integer;',
    'ALTER TABLE "users" ADD COLUMN "availability" text NOT NULL DEFAULT \'online\';',
    'CREATE INDEX "x_idx" ON "chat_messages" USING btree ("session_id");',
    'DROP INDEX "old_idx";',
    '-- contract: nothing reads users.legacy since 0007 (two releases ago)\nALTER TABLE "users" DROP COLUMN "legacy";',
  ]
  for (const sql of fine) t.same(breakingChanges(sql), [], sql)
})

t.test('every migration is additive, or a marked contract step', async (t) => {
  const migrations = readMigrations()
  t.ok(migrations.length > 0)
  for (const m of migrations) t.same(breakingChanges(m.statements.join('--> statement-breakpoint')), [], m.tag)
})
