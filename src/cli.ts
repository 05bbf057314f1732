import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { loadConfig } from './config.js'
import { connectDb } from './db/client.js'
import { messageWithoutValues } from './db/query-errors.js'
import { PostgresBus } from './realtime/postgres-bus.js'
import { startEmbeddedPostgres } from './db/embedded.js'
import { runMigrations } from './db/migrate.js'
import { resealSecrets } from './chat/reseal.js'
import { secretBoxFor } from './chat/secret-box.js'
import { createSite, listSites, rotateSiteCredentials, siteView } from './chat/sites.js'
import { backupToFile } from './backup/backup.js'
import { restoreFromFile } from './backup/restore.js'
import { createUser, findUserByEmail, listUsers, updateUser, userView, type User } from './chat/users.js'

const USAGE = `Usage: npm run cli -- <command> [options]

  migrate                                   apply database migrations (same as npm run create:chat-tables)
  create-user --email E --name N --password P [--role admin|agent]
  set-password --email E --password P
  disable-user --email E
  list-users
  create-site --name N [--origin https://example.com ...]
  rotate-site --id SITE_ID
  list-sites
  reseal-secrets                            seal stored secrets with SECRETS_KEY: plain text left by older
                                            releases, and values sealed with SECRETS_KEY_PREVIOUS (key rotation)
  backup --out FILE                         a consistent snapshot of everything, while servers run (encrypted when BACKUP_KEY is set)
  restore --in FILE [--force]               into an empty database (--force replaces what it holds); stop the servers first

Uses DATABASE_URL, or the embedded Postgres under DATA_DIR (default ./.data).`

/** The CLI sees no presence (that lives in the servers' memory): users are shown as offline. */
const offlineView = (u: User) => userView(u, false)

function required(values: Record<string, unknown>, name: string): string {
  const v = values[name]
  if (typeof v !== 'string' || v === '') throw new Error(`--${name} is required\n\n${USAGE}`)
  return v
}

export type CliOutput = { out: (text: string) => void; err: (text: string) => void }

/**
 * One command of `npm run cli`, as its process runs it; resolves to the exit code. Exported so
 * that tests can run commands in-process (each `npm run cli` starts npm, Node and tsx anew).
 */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = process.env, output: CliOutput = { out: console.log, err: console.error }): Promise<number> {
  try {
    await run(args, env, output.out)
    return 0
  } catch (err) {
    output.err(messageWithoutValues(err))
    return 1
  }
}

async function run(args: string[], env: NodeJS.ProcessEnv, out: (text: string) => void): Promise<void> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      email: { type: 'string' }, name: { type: 'string' }, password: { type: 'string' }, role: { type: 'string' },
      origin: { type: 'string', multiple: true }, id: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      out: { type: 'string' }, in: { type: 'string' }, force: { type: 'boolean' },
    },
  })
  const command = positionals[0]
  if (!command || values.help) {
    out(USAGE)
    return
  }
  const config = loadConfig(env)
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.dataDir)
  const url = config.databaseUrl ?? embedded?.url ?? ''
  const { db, sql, close } = connectDb(url, { poolSize: 2, appName: 'livechat-cli' })
  // running instances hear of revoked users and rotated keys
  const bus = new PostgresBus({ sql, databaseUrl: url, log: { warn: (obj, msg) => console.error(msg, obj), error: (obj, msg) => console.error(msg, obj) } })
  const box = secretBoxFor(config)
  try {
    // a backup records the schema as it is; a restore rebuilds the one its file needs
    if (command !== 'backup' && command !== 'restore') await runMigrations(db)
    const print = (x: unknown) => out(JSON.stringify(x, null, 2))
    switch (command) {
      case 'migrate':
        out('migrations applied')
        break
      case 'create-user': {
        const role = values.role ?? 'agent'
        if (role !== 'admin' && role !== 'agent') throw new Error('--role is admin or agent')
        const password = required(values, 'password')
        if (password.length < 8) throw new Error('--password needs at least 8 characters')
        print(offlineView(await createUser(db, { email: required(values, 'email'), name: required(values, 'name'), password, role })))
        break
      }
      case 'set-password':
      case 'disable-user': {
        const user = await findUserByEmail(db, required(values, 'email'))
        if (!user) throw new Error('no user with this email')
        const patch = command === 'set-password' ? { password: required(values, 'password') } : { disabled: true }
        print(offlineView(await updateUser(db, bus, user.id, patch)))
        break
      }
      case 'list-users':
        print((await listUsers(db)).map(offlineView))
        break
      case 'create-site': {
        const { site, apiSecret } = await createSite(db, box, { name: required(values, 'name'), origins: values.origin ?? [] })
        print({ site: siteView(site), apiSecret })
        break
      }
      case 'rotate-site': {
        const { site, apiSecret } = await rotateSiteCredentials(db, bus, required(values, 'id'))
        print({ site: siteView(site), apiSecret })
        break
      }
      case 'list-sites':
        print((await listSites(db)).map(siteView))
        break
      case 'reseal-secrets':
        print(await resealSecrets(db, box))
        break
      case 'backup': {
        const b = await backupToFile(sql, required(values, 'out'), { key: config.backup.key })
        out(`backup written to ${b.file}: ${b.rows} rows in ${b.tables.length} tables, ${b.bytes} bytes, schema ${b.schema.tag}${b.encrypted ? ', encrypted' : ''}`)
        break
      }
      case 'restore': {
        const r = await restoreFromFile(sql, required(values, 'in'), { key: config.backup.key, force: values.force === true })
        out(`restored ${r.rows} rows in ${r.tables.length} tables from the backup of ${r.takenAt} (schema ${r.from.tag}, now ${r.to.tag})`)
        break
      }
      default:
        throw new Error(`unknown command "${command}"\n\n${USAGE}`)
    }
  } finally {
    await bus.close()
    await close()
    await embedded?.stop()
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const code = await runCli(process.argv.slice(2))
  if (code !== 0) process.exit(code)
}
