import { spawn, spawnSync } from 'node:child_process'
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import tap, { type Test } from 'tap'
import postgres from 'postgres'
import { clusterDirFor } from '../src/db/cluster.js'
import { freshDatabase } from './helpers/app.js'
import { initialisedDataDir } from './helpers/new-data-dir.js'
import { ROOT, startServer, type RunningServer } from './helpers/server.js'
import { waitFor } from './helpers/wait.js'

const SITE_KEY = 'pk_server_test_key'

/**
 * One DATA_DIR for the embedded-Postgres tests: the first start makes the cluster (what a new
 * operator sees), the others find it made (what every later start sees). A start costs about
 * two CPU seconds: a test may leave its last server running for the next one (`handedOver`),
 * which stops it; the file's end kills one that a failed test left.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'livechat-server-test-'))
chmodSync(dataDir, 0o755)
tap.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
let handedOver: RunningServer | undefined

/** The server the previous test left running on dataDir, or (when it failed before) a new one. */
async function takeOver(t: Test): Promise<RunningServer> {
  const server = handedOver ?? await startServer(t, { DATA_DIR: dataDir })
  handedOver = undefined
  return server
}

const serverEnv = (env: Record<string, string>) => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'test', ...env })

/** `node src/server.ts` to its end (a start that fails), with this environment. */
function failedStart(env: Record<string, string>) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: serverEnv(env) })
  return { status: run.status, output: run.stdout + run.stderr }
}

tap.test('SIGTERM lets an in-flight request finish, then the server exits 0', async (t) => {
  const databaseUrl = await freshDatabase()
  const server = await startServer(t, {
    DATABASE_URL: databaseUrl, JWT_SECRET: 'server-test-secret-server-test', ADMIN_EMAIL: 'boss@example.com', ADMIN_PASSWORD: 'boss-password',
    SITE_API_KEY: SITE_KEY, SITE_API_SECRET: 'sk_server_test_secret',
  })
  const { api } = server
  t.equal((await fetch(`${api}/healthz`)).status, 200)
  const created = await fetch(`${api}/api/public/chat/sessions`, {
    method: 'POST', headers: { 'X-API-Key': SITE_KEY, 'Content-Type': 'application/json' }, body: JSON.stringify({ firstMessage: 'hi' }),
  })
  t.equal(created.status, 201)
  const { sessionId, token } = (await created.json() as { data: { sessionId: string; token: string } }).data

  // Hold the session's row lock so the next send is still running when SIGTERM arrives.
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} })
  t.teardown(() => sql.end())
  const holder = await sql.reserve()
  await holder`begin`
  await holder`select 1 from chat_sessions where id = ${sessionId} for update`
  const inFlight = fetch(`${api}/api/public/chat/sessions/${sessionId}/messages`, {
    method: 'POST', headers: { 'X-API-Key': SITE_KEY, 'X-Session-Token': token, 'Content-Type': 'application/json' }, body: JSON.stringify({ text: 'in flight' }),
  })
  await waitFor('the send to wait on the lock', async () => {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`
    return row && row.n > 0 ? true : undefined
  })

  server.kill('SIGTERM')
  await new Promise((r) => setTimeout(r, 300))
  t.equal(await Promise.race([server.exitCode(), new Promise((r) => setTimeout(() => r('draining'), 10))]), 'draining', 'still draining while the request runs')
  const late = await fetch(`${api}/healthz`).then((r) => r.status, () => 'refused')
  t.not(late, 200, `new requests are not served while draining (${late})`)
  await holder`commit`
  holder.release()

  const res = await inFlight
  t.equal(res.status, 201, 'the in-flight request finished')
  t.equal((await res.json() as { data: { message: { text: string } } }).data.message.text, 'in flight')
  t.equal(await server.exitCode(), 0, server.output())
  const [stored] = await sql<{ n: number }[]>`select count(*)::int as n from chat_messages where session_id = ${sessionId}`
  t.equal(stored?.n, 2)
  t.notMatch(server.output(), 'sk_server_test_secret', 'the configured secret is not printed')
})

tap.test('without DATABASE_URL, npm start makes an embedded Postgres, prints demo credentials once, keeps the data for the next start, and exits 0 after SIGTERM to its process group once it stopped that Postgres', async (t) => {
  const env = { DATA_DIR: dataDir }
  const first = await startServer(t, env, { command: ['npm', 'start', '--silent'], group: true })
  const key = /Site API key:\s+(\S+)/.exec(first.output())?.[1] ?? ''
  const password = /Admin password:\s+(\S+)/.exec(first.output())?.[1] ?? ''
  t.match(key, /^pk_/)
  t.ok(password, 'the demo admin password is printed')
  const created = await fetch(`${first.api}/api/public/chat/sessions`, {
    method: 'POST', headers: { 'X-API-Key': key, 'Content-Type': 'application/json' }, body: JSON.stringify({ userSessionId: 'visitor-restart', firstMessage: 'remember me' }),
  })
  t.equal(created.status, 201)
  // resuming needs the session's token (the widget keeps it)
  const sessionToken = (await created.json() as { data: { token: string } }).data.token
  const clusterDir = /Database:\s+embedded Postgres in (\S+)/.exec(first.output())?.[1] ?? ''
  t.ok(existsSync(join(clusterDir, 'postmaster.pid')), `the banner says where the data is (${clusterDir})`)
  // what a terminal (Ctrl-C goes to the foreground group) or a process manager does
  first.killGroup('SIGTERM')
  t.equal(await first.exitCode(), 0, `npm exits 0: ${first.output().slice(-2000)}`)
  t.notOk(existsSync(join(clusterDir, 'postmaster.pid')), 'the embedded Postgres was stopped first')

  const second = await startServer(tap, env)
  t.notMatch(second.output(), 'Admin password', 'credentials are shown only the first time')
  t.match(second.output(), key, 'the same site')
  const resumed = await fetch(`${second.api}/api/public/chat/sessions`, {
    method: 'POST', headers: { 'X-API-Key': key, 'X-Session-Token': sessionToken, 'Content-Type': 'application/json' }, body: JSON.stringify({ userSessionId: 'visitor-restart' }),
  })
  t.equal(resumed.status, 200)
  t.same((await resumed.json() as { data: { messages: { text: string }[] } }).data.messages.map((m) => m.text), ['remember me'])
  const login = await fetch(`${second.api}/api/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: 'admin@example.com', password }),
  })
  t.equal(login.status, 200, 'the demo admin from the first start logs in')
  handedOver = second
})

tap.test('after kill -9 of the server and its embedded Postgres, the next start recovers, even when the stale postmaster.pid names a live process', async (t) => {
  const env = { DATA_DIR: dataDir }
  const first = await takeOver(t)
  const key = /Site API key:\s+(\S+)/.exec(first.output())?.[1] ?? ''
  const pidFile = join(/Database:\s+embedded Postgres in (\S+)/.exec(first.output())?.[1] ?? '', 'postmaster.pid')
  const postmaster = Number(readFileSync(pidFile, 'utf8').split('\n')[0])
  first.kill('SIGKILL')
  process.kill(postmaster, 'SIGKILL')
  t.equal(await first.exitCode(), null, 'killed')
  // a zombie's cmdline is empty; once it is reaped, the pid is free
  await waitFor('the killed postmaster to be gone', async () => {
    try {
      return readFileSync(`/proc/${postmaster}/cmdline`, 'utf8').length === 0 ? true : undefined
    } catch {
      return true
    }
  })
  t.ok(existsSync(pidFile), 'Postgres left its postmaster.pid behind')
  // after a reboot or a container restart the pid is often another process's: here, this test's
  const lines = readFileSync(pidFile, 'utf8').split('\n')
  writeFileSync(pidFile, [String(process.pid), ...lines.slice(1)].join('\n'))

  const second = await startServer(tap, env)
  t.match(second.output(), key, 'the same data')
  t.equal((await fetch(`${second.api}/healthz`)).status, 200)
  handedOver = second
})

tap.test('two servers on one DATA_DIR share the embedded Postgres, and the first to stop leaves it to the other', async (t) => {
  const first = await takeOver(t)
  const second = await startServer(tap, { DATA_DIR: dataDir })
  const key = /Site API key:\s+(\S+)/.exec(first.output())?.[1] ?? ''
  t.match(second.output(), key, 'one demo site for both')
  first.kill('SIGTERM')
  t.equal(await first.exitCode(), 0)
  const health = await fetch(`${second.api}/healthz`)
  t.equal(health.status, 200, 'the database outlives the server that started it')
  const created = await fetch(`${second.api}/api/public/chat/sessions`, {
    method: 'POST', headers: { 'X-API-Key': key, 'Content-Type': 'application/json' }, body: JSON.stringify({ firstMessage: 'still here' }),
  })
  t.equal(created.status, 201)
  // the next test stops it: the last one out, though it found the cluster running
  handedOver = second
})

tap.test('SIGHUP (the terminal that ran npm start closed) drains like SIGTERM: the embedded Postgres is stopped, not orphaned', async (t) => {
  const server = await takeOver(t)
  const pidFile = join(/Database:\s+embedded Postgres in (\S+)/.exec(server.output())?.[1] ?? '', 'postmaster.pid')
  t.ok(existsSync(pidFile), 'the embedded Postgres runs')
  // without the fix, the orphan this test looks for: stop it before the folder goes
  t.teardown(() => existsSync(pidFile) && process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGQUIT'))
  server.kill('SIGHUP')
  t.equal(await server.exitCode(), 0, server.output())
  t.notOk(existsSync(pidFile), 'and was stopped')
})

tap.test('SIGTERM while the server is still starting (the embedded Postgres up, not listening yet) stops that Postgres too, and exits 0', async (t) => {
  const ownDir = await initialisedDataDir('livechat-server-test-early-')
  const pidFile = join(clusterDirFor(ownDir), 'postmaster.pid')
  t.teardown(() => {
    // without the fix, the orphan this test looks for: stop it before its folder goes
    if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGQUIT')
    rmSync(ownDir, { recursive: true, force: true })
  })
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: serverEnv({ DATA_DIR: ownDir }) })
  let output = ''
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (c: Buffer) => { output += c.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  // a new cluster: migrations, the demo data and the web build still to come
  await waitFor('the embedded Postgres to run', () => existsSync(pidFile), 60_000)
  child.kill('SIGTERM')
  t.equal(await exited, 0, output)
  t.notMatch(output, 'Live chat is running', 'the signal came while starting')
  t.match(output, 'Stopped by SIGTERM before the start finished')
  await waitFor('the embedded Postgres to stop', () => !existsSync(pidFile))
})

tap.test('an uncaught exception is logged with its stack before the process exits', async (t) => {
  // a throw outside any request or promise, when the test asks for it (SIGUSR2)
  const thrower = 'data:text/javascript,process.on("SIGUSR2", () => setImmediate(() => { throw new Error("boom outside any request") }))'
  const server = await startServer(t, { DATABASE_URL: await freshDatabase(), JWT_SECRET: 'server-test-secret-server-test' }, { nodeArgs: ['--import', thrower] })
  server.kill('SIGUSR2')
  t.equal(await server.exitCode(), 1, 'the process exits 1')
  const line = server.output().split('\n').find((l) => l.includes('boom outside any request')) ?? ''
  const logged = JSON.parse(line || '{}') as { level?: number; msg?: string; err?: { stack?: string } }
  t.equal(logged.level, 60, 'logged as fatal')
  t.equal(logged.msg, 'uncaught exception; exiting')
  t.match(logged.err?.stack ?? '', /Error: boom outside any request\n\s+at /, 'with its stack')
})

tap.test('a start that fails after the embedded Postgres started (port taken) stops it again, and still shows the secrets it made', async (t) => {
  const ownDir = await initialisedDataDir('livechat-server-test-failed-')
  t.teardown(() => {
    // without the fix, the orphan this test looks for: stop it before its folder goes
    const pidFile = join(ownDir, 'pg', 'postmaster.pid')
    if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGQUIT')
    rmSync(ownDir, { recursive: true, force: true })
  })
  const taken = createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
  t.teardown(() => taken.close())
  const port = String((taken.address() as AddressInfo).port)
  const { status, output } = failedStart({ PORT: port, DATA_DIR: ownDir })
  t.equal(status, 1, output)
  t.match(output, `Cannot start: cannot listen on 127.0.0.1:${port} (HOST, PORT): the port is in use`, 'a sentence naming the settings')
  t.notMatch(output, /\n\s+at /, 'no stack trace')
  t.notOk(existsSync(join(ownDir, 'pg', 'postmaster.pid')), 'no Postgres left running on DATA_DIR')
  // the demo admin and site were stored before listen failed: their secrets are shown now or never
  t.match(output, /Admin password:\s+\S+/, 'the demo admin password made by this start is printed')
  t.match(output, /Site API secret:\s+\S+/, 'and the demo site secret')
})

tap.test('a DATABASE_URL that cannot be reached stops the start with a sentence naming it, without the password or a stack', async (t) => {
  const closed = createServer()
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
  const port = (closed.address() as AddressInfo).port
  await new Promise((resolve) => closed.close(resolve))
  const { status, output } = failedStart({ DATABASE_URL: `postgres://chat:pw-not-shown@127.0.0.1:${port}/chat` })
  t.equal(status, 1, output)
  t.match(output, `Cannot start: cannot reach the database at 127.0.0.1:${port} (DATABASE_URL): `)
  t.notMatch(output, 'pw-not-shown')
  t.notMatch(output, /\n\s+at /, 'no stack trace')
})

tap.test('a DATA_DIR that cannot be written stops the start with a sentence naming it, without a stack', async (t) => {
  // root may write anywhere; a path through a file fails for everyone (a read-only folder fails the same way for other users)
  const file = join(dataDir, 'not-a-folder')
  writeFileSync(file, '')
  const { status, output } = failedStart({ DATA_DIR: join(file, 'data') })
  t.equal(status, 1, output)
  t.match(output, `Cannot start: cannot use the data folder ${join(file, 'data')} (DATA_DIR): ENOTDIR`)
  t.notMatch(output, /\n\s+at /, 'no stack trace')
})

tap.test('an embedded Postgres that will not start (here a broken setting; a full disk alike) is reported with what its log says, not just "Examine the log output"', async (t) => {
  const ownDir = await initialisedDataDir('livechat-server-test-broken-')
  const clusterDir = clusterDirFor(ownDir)
  t.teardown(() => {
    rmSync(ownDir, { recursive: true, force: true })
    rmSync(clusterDir, { recursive: true, force: true })
  })
  appendFileSync(join(clusterDir, 'postgresql.conf'), "\nmax_connections = 'lots'\n")
  const { status, output } = failedStart({ DATA_DIR: ownDir })
  t.equal(status, 1, output)
  t.match(output, `${join(clusterDir, 'server.log')} says:`)
  t.match(output, 'invalid value for parameter "max_connections"', 'the reason, from the log')
  t.notMatch(output, /\n\s+at /, 'no stack trace')
})

tap.test('a start that the database refuses prints the error without the values of its statement', async (t) => {
  const databaseUrl = await freshDatabase()
  const db = postgres(databaseUrl, { max: 1, onnotice: () => {} })
  // no user can be stored: creating the configured admin fails on its insert
  await db.unsafe('alter table users add constraint users_refused check (false) not valid')
  await db.end()
  const { status, output } = failedStart({ DATABASE_URL: databaseUrl, ADMIN_EMAIL: 'ops.private@example.com', ADMIN_PASSWORD: 'admin-password-1' })
  t.equal(status, 1, output)
  t.match(output, /Cannot start: Error: Failed query: insert into "users" .*\nparams: \(\d+ values, not logged\)/, 'the statement, without its values')
  t.match(output, /code: '23514'/, 'and the Postgres code')
  t.notMatch(output, 'scrypt$', 'no password hash')
  t.notMatch(output, 'ops.private', 'no email')
})
