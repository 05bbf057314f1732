import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import postgres from 'postgres'
import { freshDatabase } from './helpers/app.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const STARTUP_TIMEOUT_MS = 30_000
const SITE_KEY = 'pk_server_test_key'

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

t.test('SIGTERM lets an in-flight request finish, then the server exits 0', async (t) => {
  const databaseUrl = await freshDatabase()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH, DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'test',
      JWT_SECRET: 'server-test-secret-server-test', ADMIN_EMAIL: 'boss@example.com', ADMIN_PASSWORD: 'boss-password',
      SITE_API_KEY: SITE_KEY, SITE_API_SECRET: 'sk_server_test_secret',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let output = ''
  child.stdout.on('data', (c: Buffer) => { output += c.toString() })
  child.stderr.on('data', (c: Buffer) => { output += c.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))

  const base = await waitFor('the welcome banner', async () => /Dashboard:\s+(http:\/\/localhost:\d+)\/admin/.exec(output)?.[1], STARTUP_TIMEOUT_MS)
  const api = base.replace('localhost', '127.0.0.1')
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

  child.kill('SIGTERM')
  await new Promise((r) => setTimeout(r, 300))
  t.equal(child.exitCode, null, 'still draining while the request runs')
  const late = await fetch(`${api}/healthz`).then((r) => r.status, () => 'refused')
  t.not(late, 200, `new requests are not served while draining (${late})`)
  await holder`commit`
  holder.release()

  const res = await inFlight
  t.equal(res.status, 201, 'the in-flight request finished')
  t.equal((await res.json() as { data: { message: { text: string } } }).data.message.text, 'in flight')
  const EXIT_TIMEOUT_MS = 10_000
  let timer: NodeJS.Timeout | undefined
  const code = await Promise.race([exited, new Promise((r) => { timer = setTimeout(() => r('still running'), EXIT_TIMEOUT_MS) })])
  clearTimeout(timer)
  t.equal(code, 0, output)
  const [stored] = await sql<{ n: number }[]>`select count(*)::int as n from chat_messages where session_id = ${sessionId}`
  t.equal(stored?.n, 2)
  t.notMatch(output, 'sk_server_test_secret', 'the configured secret is not printed')
})
