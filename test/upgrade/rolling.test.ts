import { execFileSync } from 'node:child_process'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import postgres from 'postgres'
import { appliedSchemaVersion, readMigrations } from '../../src/db/migrate.js'
import { buildTestApp, emptyDatabase, testConfig } from '../helpers/app.js'
import { tempDir } from '../helpers/backup-fixture.js'
import { checkOut, previousRelease, ROOT, startServer, type RunningServer } from '../helpers/previous-release.js'
import { TestSocket } from '../helpers/sockets.js'

// starts the previous release three times (Node and tsx compiling it): slow on a loaded machine
t.setTimeout(600_000)

const ADMIN = { email: 'upgrade-admin@example.com', password: 'upgrade admin password' }
const SITE = { key: 'pk_rolling_upgrade_site', secret: 'sk_rolling_upgrade_site_secret' }
const HIGH_LIMITS = Object.fromEntries(['PUBLIC', 'SENDS', 'SESSIONS', 'LOGIN', 'ADMIN'].map((k) => [`RATE_LIMIT_${k}_PER_MINUTE`, '100000']))

type Reply = { status: number; body: { data?: Record<string, unknown> & { message?: { seq: number } } } | null }

/** Every answer of either server, to check that none was refused. */
const answers: { server: string; call: string; status: number }[] = []

async function call(server: { name: string; origin: string }, method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<Reply> {
  const res = await fetch(`${server.origin}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const reply = { status: res.status, body: (await res.json().catch(() => null)) as Reply['body'] }
  answers.push({ server: server.name, call: `${method} ${path}`, status: res.status })
  return reply
}

t.test('the previous release and this one serve one database side by side during a rolling upgrade, losing and refusing nothing', { timeout: 300_000 }, async (t) => {
  const previous = previousRelease()
  t.comment(`previous release: ${previous.why}`)
  const dir = checkOut(t, previous.commit)
  const databaseUrl = await emptyDatabase()
  const jwtSecret = testConfig().jwtSecret ?? ''
  const oldEnv = { DATABASE_URL: databaseUrl, JWT_SECRET: jwtSecret, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, SITE_API_KEY: SITE.key, SITE_API_SECRET: SITE.secret, ...HIGH_LIMITS }

  // 1. the previous release runs alone and holds a conversation
  let oldServer: RunningServer = await startServer(t, dir, oldEnv)
  const old = { name: 'previous', origin: oldServer.origin }
  const started = await call(old, 'POST', '/api/public/chat/sessions', { 'x-api-key': SITE.key }, { userSessionId: 'visitor-rolling-1', firstMessage: 'sent before the upgrade' })
  t.equal(started.status, 201, 'the previous release starts a chat')
  const sessionId = String(started.body?.data?.sessionId)
  const token = String(started.body?.data?.token)

  // 2. the new release starts on the same database: its migrations run while the old one serves
  const app = await buildTestApp(t, { databaseUrl, env: HIGH_LIMITS })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const current = { name: 'new', origin: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` }
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end())
  const latest = readMigrations().at(-1)?.tag
  t.equal((await appliedSchemaVersion(sql))?.tag, latest, `the database is at this release's schema (${latest})`)

  const visitor = { 'x-api-key': SITE.key, 'x-session-token': token }
  const sockets = await Promise.all([old, current].map((s) =>
    TestSocket.open(`${s.origin.replace('http', 'ws')}/api/public/chat/sessions/${sessionId}/ws?${new URLSearchParams({ apiKey: SITE.key, token, after: '0' })}`)))
  t.teardown(() => sockets.forEach((s) => s.ws.close()))
  const agentTokens = new Map<string, string>()
  for (const server of [old, current]) {
    const login = await call(server, 'POST', '/api/auth/login', {}, ADMIN)
    agentTokens.set(server.name, String(login.body?.data?.token))
  }

  // 3. both serve the same chat: the visitor and an agent write through either
  const sent = ['sent before the upgrade']
  for (let i = 1; i <= 12; i++) {
    const [a, b] = i % 2 ? [old, current] : [current, old]
    const text = `visitor via ${a.name} #${i}`
    t.equal((await call(a, 'POST', `/api/public/chat/sessions/${sessionId}/messages`, visitor, { text, clientMessageId: `rolling-${i}` })).status, 201, text)
    sent.push(text)
    const reply = `agent via ${b.name} #${i}`
    t.equal((await call(b, 'POST', `/api/chat/sessions/${sessionId}/messages`, { authorization: `Bearer ${agentTokens.get(b.name)}` }, { text: reply })).status, 201, reply)
    sent.push(reply)
  }
  const other = await call(current, 'POST', '/api/public/chat/sessions', { 'x-api-key': SITE.key }, { userSessionId: 'visitor-rolling-2', firstMessage: 'a chat the new release started' })
  t.equal(other.status, 201)
  const otherHeaders = { 'x-api-key': SITE.key, 'x-session-token': String(other.body?.data?.token) }
  t.equal((await call(old, 'POST', `/api/public/chat/sessions/${String(other.body?.data?.sessionId)}/messages`, otherHeaders, { text: 'answered through the old one' })).status, 201)

  // 4. nothing lost or doubled, the same history whichever server is asked, live on both
  const expectedSeqs = sent.map((_, i) => i + 1)
  for (const server of [old, current]) {
    const polled = await call(server, 'GET', `/api/public/chat/sessions/${sessionId}/messages`, visitor)
    const messages = (polled.body?.data?.messages ?? []) as { seq: number; text: string }[]
    t.same(messages.map((m) => m.seq), expectedSeqs, `${server.name}: every seq once, in order`)
    t.same(messages.map((m) => m.text), sent, `${server.name}: every message, as sent`)
  }
  for (const [i, socket] of sockets.entries()) {
    const name = i === 0 ? old.name : current.name
    await socket.waitUntil(`${name}'s socket to get every message`, () => socket.seqs().length >= sent.length, 15_000)
    t.same(socket.seqs(), expectedSeqs, `the socket on the ${name} release got every message once, in order, whichever server stored it`)
  }

  // 5. an instance of the previous release restarting mid-upgrade finds the newer schema and serves
  await oldServer.stop()
  oldServer = await startServer(t, dir, oldEnv)
  const restarted = { name: 'previous, restarted', origin: oldServer.origin }
  t.equal((await call(restarted, 'POST', `/api/public/chat/sessions/${sessionId}/messages`, visitor, { text: 'after the old one restarted' })).status, 201)
  const finalPoll = await call(current, 'GET', `/api/public/chat/sessions/${sessionId}/messages?after=${sent.length}`, visitor)
  t.same(((finalPoll.body?.data?.messages ?? []) as { seq: number }[]).map((m) => m.seq), [sent.length + 1])

  const refused = answers.filter((a) => a.status >= 300)
  t.same(refused, [], 'no request was refused by either release')
})

t.test('without the git history the rolling-upgrade test fails loudly instead of passing', async (t) => {
  const shallow = join(tempDir(t), 'shallow')
  execFileSync('git', ['clone', '--quiet', '--depth', '1', `file://${ROOT}`, shallow])
  t.throws(() => previousRelease(shallow), /this clone is shallow: run `git fetch --unshallow`/)
  const notGit = tempDir(t)
  t.throws(() => previousRelease(notGit), /no git history here/)
})
