import { execFile } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import tap from 'tap'
import { clusterDirFor, initCluster } from '../../src/db/cluster.js'

const run = promisify(execFile)

let pristine: Promise<string> | undefined

/**
 * A DATA_DIR as a first start finds it once initdb has run: a cluster (stopped, empty: no
 * migrations, no demo data) and its password. initdb runs once per test file and each caller
 * gets a `cp -a` of its result (a fraction of initdb's CPU), for tests about what comes after
 * the cluster is made; a test of the first start itself starts from an empty folder. The
 * caller removes the copy.
 */
export async function initialisedDataDir(prefix: string): Promise<string> {
  pristine ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'livechat-pristine-'))
    // as root the cluster runs as `postgres`, which must be able to enter the folder
    chmodSync(dir, 0o755)
    tap.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const password = 'test-cluster-password'
    writeFileSync(join(dir, 'pg-password'), password, { mode: 0o600 })
    await initCluster(clusterDirFor(dir), password)
    return dir
  })()
  const template = await pristine
  const dir = mkdtempSync(join(tmpdir(), prefix))
  chmodSync(dir, 0o755)
  // -a keeps the owner (user `postgres`, as root) and the modes Postgres insists on
  await run('cp', ['-a', `${template}/.`, dir])
  return dir
}
