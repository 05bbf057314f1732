/**
 * `npm test` after type-check and lint: starts one real Postgres for the whole run (the
 * embedded one, in a temporary folder, unless TEST_DATABASE_URL points at a server),
 * migrates a template database that every test file clones, runs tap, and prints a plain
 * "N passed, M failed" line for CI.
 */
import { spawn } from 'node:child_process'
import postgres from 'postgres'
import { connectDb } from '../src/db/client.js'
import { existingOrTemporaryPostgres } from '../src/db/embedded.js'
import { runMigrations } from '../src/db/migrate.js'

export const TEMPLATE_DB = 'chat_template'

const stripAnsi = (s: string) => s.replace(new RegExp(String.fromCharCode(27) + '\\[[0-9;]*m', 'g'), '')

async function main(): Promise<number> {
  const server = await existingOrTemporaryPostgres(process.env.TEST_DATABASE_URL, 'livechat-test-')
  const adminUrl = server.url
  try {
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
    await admin.unsafe(`drop database if exists ${TEMPLATE_DB} with (force)`)
    await admin.unsafe(`create database ${TEMPLATE_DB}`)
    await admin.end()
    const templateUrl = new URL(adminUrl)
    templateUrl.pathname = `/${TEMPLATE_DB}`
    const handle = connectDb(templateUrl.toString(), { poolSize: 1 })
    await runMigrations(handle.db)
    await handle.close()

    const args = process.argv.slice(2)
    const code = await new Promise<number>((resolve) => {
      const child = spawn('npx', ['tap', ...args], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, TEST_DATABASE_URL: adminUrl, TEST_TEMPLATE_DB: TEMPLATE_DB },
      })
      let tail = ''
      child.stdout.on('data', (chunk: Buffer) => {
        process.stdout.write(chunk)
        tail = (tail + chunk.toString()).slice(-4000)
      })
      child.on('close', (c) => {
        const m = /# \{ total: (\d+), pass: (\d+)(?:, fail: (\d+))?/.exec(stripAnsi(tail))
        if (m) console.log(`\ntests: ${m[2]} passed, ${m[3] ?? 0} failed`)
        resolve(c ?? 1)
      })
    })
    return code
  } finally {
    await server.stop()
  }
}

main().then((code) => process.exit(code), (err: unknown) => {
  console.error(err)
  process.exit(1)
})
