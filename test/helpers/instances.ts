import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { startEmbeddedPostgres, type EmbeddedDb } from '../../src/db/embedded.js'
import postgres from 'postgres'
import { type BotApiStandIn } from './telegram-bot-api.js'
import { TEST_BOT_TOKEN } from './telegram.js'
import { fetchJson } from './http.js'
import { startServer, type RunningServer } from './server.js'
import { uniq } from './fixtures.js'
import { waitFor } from './wait.js'

/** Two `npm start`s on one database, with a site that posts to the Telegram stand-in, at the default settings. */
export type Instances = {
  servers: RunningServer[]
  siteKey: string
  siteSecret: string
  chatId: string
  adminToken: string
  /** what the servers were started with: another instance (a late one, a restart) is `startServer(t, env)` */
  env: Record<string, string>
}

export async function startInstances(t: Test, databaseUrl: string, bot: BotApiStandIn, count = 2): Promise<Instances> {
  const siteKey = uniq('pk_')
  const siteSecret = uniq('sk_secret_')
  const chatId = `-100${Date.now() % 1e9}`
  const env = {
    DATABASE_URL: databaseUrl,
    JWT_SECRET: 'faults-test-secret-faults-test',
    ADMIN_EMAIL: 'ops@example.com',
    ADMIN_PASSWORD: 'ops-password',
    SITE_API_KEY: siteKey,
    SITE_API_SECRET: siteSecret,
    TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
    TELEGRAM_CHAT_ID: chatId,
    TELEGRAM_API_URL: bot.url,
    PUBLIC_URL: 'https://chat.example.com',
  }
  const servers: RunningServer[] = []
  for (let i = 0; i < count; i++) servers.push(await startServer(t, env))
  const login = await fetchJson(servers[0]?.api ?? '', 'POST', '/api/auth/login', { body: { email: 'ops@example.com', password: 'ops-password' } })
  // only linked agents may answer from Telegram: the stand-in's default manager (user 42) is the admin
  const db = postgres(databaseUrl, { max: 1, onnotice: () => {} })
  try {
    await db`update users set telegram_user_id = 42 where email = 'ops@example.com'`
  } finally {
    await db.end()
  }
  return { servers, siteKey, siteSecret, chatId, adminToken: String(login.body.data?.token), env }
}

/** Whatever went wrong, no instance died and none logged an uncaught exception. */
export async function assertAllAlive(t: Test, servers: RunningServer[]): Promise<void> {
  for (const [i, s] of servers.entries()) {
    t.ok(s.running(), `instance ${i} is still running`)
    t.notMatch(s.output(), /uncaught exception|TypeError: Cannot read properties of null/, `instance ${i} logged no uncaught exception`)
  }
}

/** SIGTERM: each instance drains and exits 0. */
export async function stopAll(t: Test, servers: RunningServer[]): Promise<void> {
  for (const s of servers) s.kill('SIGTERM')
  for (const [i, s] of servers.entries()) t.equal(await s.exitCode(), 0, `instance ${i} exits 0`)
}

/** A Postgres cluster of the test's own (to stop, start or share with instances without disturbing other test files), removed at teardown. */
export async function ownCluster(t: Test, prefix: string): Promise<EmbeddedDb> {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  chmodSync(dir, 0o755)
  const pg = await startEmbeddedPostgres(dir, () => {}, { shared: false })
  t.teardown(async () => {
    await pg.stop()
    rmSync(dir, { recursive: true, force: true })
    rmSync(pg.clusterDir, { recursive: true, force: true })
  })
  return pg
}

/** Every text exactly once among what the Telegram stand-in was sent to `chatId`. */
export async function waitForTelegramOnce(t: Test, bot: BotApiStandIn, chatId: string, texts: string[], timeoutMs = 15_000): Promise<void> {
  const counts = () => texts.map((text) => bot.sentTo(chatId).filter((m) => m.text.includes(text)).length)
  await waitFor('every message in Telegram', () => counts().every((n) => n >= 1), timeoutMs).catch(() => undefined)
  const got = counts()
  t.same(got.filter((n) => n !== 1).length, 0, `each of ${texts.length} messages reached Telegram exactly once (${got.join(',')})`)
}
