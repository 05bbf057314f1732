import { randomBytes } from 'node:crypto'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import postgres from 'postgres'
import tap from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'

type Test = { teardown: (fn: () => unknown) => void }

const adminUrl = () => {
  const url = process.env.TEST_DATABASE_URL
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run the tests with npm test')
  return url
}

/** A new database cloned from the migrated template (or another template): each test file gets its own. */
export async function freshDatabase(template = process.env.TEST_TEMPLATE_DB ?? 'chat_template'): Promise<string> {
  const name = `t_${randomBytes(6).toString('hex')}`
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} })
  try {
    // CREATE DATABASE ... TEMPLATE fails while another file clones the same template; retry
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.unsafe(`create database ${name} template ${template}`)
        break
      } catch (err) {
        if (attempt >= 50 || (err as { code?: string }).code !== '55006') throw err
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100))
      }
    }
  } finally {
    await admin.end()
  }
  const url = new URL(adminUrl())
  url.pathname = `/${name}`
  return url.toString()
}

/** A new database without any tables. */
export const emptyDatabase = () => freshDatabase('template0')

let fileDatabase: Promise<string> | undefined
/** The database of this test file (created on first use). */
export const fileDatabaseUrl = () => (fileDatabase ??= freshDatabase())

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    JWT_SECRET: 'test-secret-test-secret-test-secret',
    RATE_LIMIT_PUBLIC_PER_MINUTE: '100000',
    RATE_LIMIT_SENDS_PER_MINUTE: '100000',
    RATE_LIMIT_SESSIONS_PER_MINUTE: '100000',
    RATE_LIMIT_LOGIN_PER_MINUTE: '100000',
    RATE_LIMIT_LOGIN_IP_PER_MINUTE: '100000',
    RATE_LIMIT_ADMIN_PER_MINUTE: '100000',
    RATE_LIMIT_NOTIFY_PER_MINUTE: '100000',
    RATE_LIMIT_UPLOADS_PER_MINUTE: '100000',
    RATE_LIMIT_UPLOADS_IP_PER_MINUTE: '100000',
    ...env,
  })
}

/** The app on this file's database (or `databaseUrl`), closed when the test ends. */
export async function buildTestApp(
  t: Test,
  opts: { env?: Record<string, string>; databaseUrl?: string; clock?: () => Date } = {},
): Promise<FastifyInstance> {
  const app = await buildApp({ config: testConfig(opts.env), databaseUrl: opts.databaseUrl ?? (await fileDatabaseUrl()), logger: false, clock: opts.clock })
  t.teardown(() => app.close())
  await app.ready()
  return app
}

let fileApp: Promise<FastifyInstance> | undefined
/**
 * One app with the default test settings for the whole file, closed when the file's tests
 * end: for tests that need no settings, clock or in-process state of their own (each makes
 * its own site and sessions). Building the app is most of such a test's cost.
 */
export const sharedTestApp = (): Promise<FastifyInstance> =>
  (fileApp ??= (async () => {
    const app = await buildApp({ config: testConfig(), databaseUrl: await fileDatabaseUrl(), logger: false })
    tap.teardown(() => app.close())
    await app.ready()
    return app
  })())

export const json = <T = Record<string, unknown>>(res: LightMyRequestResponse) => res.json() as T
