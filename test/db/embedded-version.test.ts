import { execFile } from 'node:child_process'
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { clusterDirFor } from '../../src/db/cluster.js'
import { bundledPostgresMajor, EmbeddedDbError, startEmbeddedPostgres } from '../../src/db/embedded.js'
import { tempDir } from '../helpers/backup-fixture.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const run = promisify(execFile)
const bundled = bundledPostgresMajor()
const older = String(bundled - 1)

/** A DATA_DIR whose cluster folder says it was made by another major version. */
function dataDirFromAnotherMajor(t: { teardown: (fn: () => unknown) => void }): { dataDir: string; clusterDir: string } {
  const dataDir = tempDir(t)
  // open to user postgres (as root), so the cluster lives in DATA_DIR/pg
  chmodSync(dataDir, 0o755)
  const clusterDir = clusterDirFor(dataDir)
  mkdirSync(clusterDir, { recursive: true })
  writeFileSync(join(clusterDir, 'PG_VERSION'), `${older}\n`)
  return { dataDir, clusterDir }
}

t.test('a data folder of another Postgres major version is refused with the steps that move it', async (t) => {
  const { dataDir, clusterDir } = dataDirFromAnotherMajor(t)
  const err = await startEmbeddedPostgres(dataDir).then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof EmbeddedDbError)
  const message = (err as Error).message
  t.match(message, `The data in ${clusterDir} was made by PostgreSQL ${older}, but this release embeds PostgreSQL ${bundled}`)
  t.match(message, 'npm run cli -- backup --out livechat.backup')
  t.match(message, `mv ${clusterDir} ${clusterDir}-pg${older}`)
  t.match(message, 'npm run cli -- restore --in livechat.backup')
  t.same(readdirSync(clusterDir), ['PG_VERSION'], 'nothing was touched')
  t.equal(readFileSync(join(clusterDir, 'PG_VERSION'), 'utf8'), `${older}\n`)
})

t.test('npm start and the CLI stop at once with that message', async (t) => {
  const { dataDir } = dataDirFromAnotherMajor(t)
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, PORT: '0' }
  for (const args of [['--import', 'tsx', 'src/server.ts'], ['--import', 'tsx', 'src/cli.ts', 'backup', '--out', join(dataDir, 'x.backup')]]) {
    const failure = await run(process.execPath, args, { cwd: ROOT, env, timeout: 60_000 }).then(() => undefined, (e: { code: number; stderr: string }) => e)
    t.equal(failure?.code, 1, args.join(' '))
    t.match(failure?.stderr, `made by PostgreSQL ${older}, but this release embeds PostgreSQL ${bundled}`)
  }
})
