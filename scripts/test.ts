/**
 * `npm test` after type-check and lint: starts one real Postgres for the whole run (the
 * embedded one, in a temporary folder, unless TEST_DATABASE_URL points at a server),
 * migrates a template database that every test file clones, runs tap on the compiled copy of
 * the project (scripts/test-tree.ts), and ends with the failed tests and a plain "N passed, M failed" line for CI.
 */
import { spawn } from 'node:child_process'
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs'
import { join, relative, resolve as resolvePath } from 'node:path'
import postgres from 'postgres'
import { connectDb } from '../src/db/client.js'
import { existingOrTemporaryPostgres } from '../src/db/embedded.js'
import { runMigrations } from '../src/db/migrate.js'
import { gateTestFiles, skipReason } from './system-requirements.js'
import { buildTapIfStale } from './tap-build.js'
import { TapFailures, stripAnsi } from './tap-failures.js'
import { makeTestTree } from './test-tree.js'

export const TEMPLATE_DB = 'chat_template'
const ARTIFACTS = 'test-artifacts'

const isTestFile = (arg: string) => arg.endsWith('.test.ts')

function allTestFiles(dir = 'test'): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name)
    return e.isDirectory() ? allTestFiles(path) : isTestFile(e.name) ? [path] : []
  }).sort()
}

/** The files to run; those needing a missing system service are skipped loudly, or fail the run under TEST_REQUIRE_ALL=1. */
function testFiles(args: string[]): { files: string[]; refused: boolean; skippedFiles: number } {
  const named = args.filter(isTestFile)
  const { run, skipped } = gateTestFiles(named.length > 0 ? named : allTestFiles())
  const requireAll = process.env.TEST_REQUIRE_ALL === '1'
  for (const { file, missing } of skipped) {
    console.error(`\n*** ${requireAll ? 'CANNOT RUN' : 'SKIPPED'} ${file}: it needs ${skipReason(missing)} ***`)
  }
  if (skipped.length > 0 && requireAll) console.error('*** TEST_REQUIRE_ALL=1: a skipped test fails the run ***\n')
  return { files: run, refused: skipped.length > 0 && requireAll, skippedFiles: skipped.length }
}

async function main(): Promise<number> {
  const args = process.argv.slice(2)
  const { files, refused, skippedFiles } = testFiles(args)
  if (refused) return 1
  await buildTapIfStale(process.cwd())
  const tree = await makeTestTree(process.cwd())
  const server = await existingOrTemporaryPostgres(process.env.TEST_DATABASE_URL, 'livechat-test-')
  // the cluster runs in a session of its own (see src/db/cluster.ts): an interrupted run stops it too
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void server.stop().finally(() => {
      rmSync(tree, { recursive: true, force: true })
      process.exit(130)
    }))
  }
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

    const code = await new Promise<number>((resolve) => {
      const compiled = files.map((f) => relative(process.cwd(), resolvePath(f)).replace(/\.ts$/, '.js'))
      const child = spawn('npx', ['tap', ...args.filter((a) => !isTestFile(a)), ...compiled], {
        cwd: tree,
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, TEST_DATABASE_URL: adminUrl, TEST_TEMPLATE_DB: TEMPLATE_DB },
      })
      let tail = ''
      const failures = new TapFailures()
      // decoded as a stream: a chunk may end inside a multi-byte character
      child.stdout.setEncoding('utf8')
      child.stdout.on('data', (chunk: string) => {
        process.stdout.write(chunk)
        tail = (tail + chunk).slice(-4000)
        failures.push(chunk)
      })
      child.on('close', (c) => {
        const failed = failures.summary()
        if (failed) console.log(failed)
        const m = /# \{ total: (\d+), pass: (\d+)(?:, fail: (\d+))?/.exec(stripAnsi(tail))
        if (m) console.log(`\ntests: ${m[2]} passed, ${m[3] ?? 0} failed${skippedFiles > 0 ? `; ${skippedFiles} file(s) SKIPPED for missing system packages (see above)` : ''}`)
        resolve(c ?? 1)
      })
    })
    return code
  } finally {
    // screenshots of failed browser tests, where they are looked for
    if (existsSync(join(tree, ARTIFACTS))) cpSync(join(tree, ARTIFACTS), ARTIFACTS, { recursive: true })
    rmSync(tree, { recursive: true, force: true })
    await server.stop()
  }
}

main().then((code) => process.exit(code), (err: unknown) => {
  console.error(err)
  process.exit(1)
})
