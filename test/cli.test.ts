import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import postgres from 'postgres'
import { buildTestApp, emptyDatabase } from './helpers/app.js'
import { cliInProcess } from './helpers/backup-fixture.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const run = promisify(execFile)

/** `npm run <script> -- args` against this database, as an operator would type it (npm, Node and tsx start each time: used once). */
async function npmRun(databaseUrl: string, script: string, ...args: string[]) {
  return run('npm', ['run', '--silent', script, '--', ...args], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: databaseUrl } })
}

t.test('create:chat-tables migrates an empty database, and again is harmless', async (t) => {
  const url = await emptyDatabase()
  const first = await npmRun(url, 'create:chat-tables')
  t.match(first.stdout, 'migrations applied')
  const again = await cliInProcess({ DATABASE_URL: url }, 'migrate')
  t.equal(again.code, 0, again.stderr)
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end())
  const tables = (await sql<{ table_name: string }[]>`select table_name from information_schema.tables where table_schema = 'public'`).map((r) => r.table_name)
  for (const name of ['sites', 'users', 'chat_sessions', 'chat_messages']) t.ok(tables.includes(name), name)
})

// the other commands run in-process (the process boundary is checked by the backup CLI tests)
t.test('cli create-user and create-site make a user who can log in and a site whose key works', async (t) => {
  const url = await emptyDatabase()
  const cli = (...args: string[]) => cliInProcess({ DATABASE_URL: url }, ...args)
  const user = JSON.parse((await cli('create-user', '--email', 'Agent@Example.com', '--name', 'Olena', '--password', 'a-long-password', '--role', 'agent')).stdout)
  t.match(user, { email: 'agent@example.com', name: 'Olena', role: 'agent' })
  const created = JSON.parse((await cli('create-site', '--name', 'Shop', '--origin', 'https://shop.example', '--origin', 'https://www.shop.example/')).stdout)
  t.same(created.site.origins, ['https://shop.example', 'https://www.shop.example'])
  t.match(created.apiSecret, /^sk_/)

  const app = await buildTestApp(t, { databaseUrl: url })
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'agent@example.com', password: 'a-long-password' } })
  t.equal(login.statusCode, 200)
  const session = await app.inject({ method: 'POST', url: '/api/public/chat/sessions', headers: { 'x-api-key': created.site.apiKey }, payload: {} })
  t.equal(session.statusCode, 201)

  const failure = await cli('create-user', '--email', 'x@example.com', '--name', 'X', '--password', 'short')
  t.equal(failure.code, 1, 'a bad password is refused with exit code 1')
  t.match(failure.stderr, '--password')
  const duplicate = await cli('create-user', '--email', 'agent@example.com', '--name', 'Again', '--password', 'a-long-password')
  t.equal(duplicate.code, 1)
  t.match(duplicate.stderr, 'exists')
})

t.test('a command the database refuses says why without the values of its statement', async (t) => {
  const url = await emptyDatabase()
  // Postgres text cannot hold U+0000: the insert fails after the password was hashed
  const failed = await cliInProcess({ DATABASE_URL: url }, 'create-user', '--email', 'private.agent@example.com', '--name', 'Ol\u0000ena', '--password', 'a-long-password')
  t.equal(failed.code, 1)
  t.match(failed.stderr, /^Failed query: insert into "users" .*\nparams: \(\d+ values, not logged\)/s)
  t.notMatch(failed.stderr, 'scrypt$', 'no password hash')
  t.notMatch(failed.stderr, 'private.agent', 'no email')
})
