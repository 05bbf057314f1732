import { chownSync, rmSync, writeFileSync } from 'node:fs'
import postgres from 'postgres'
import tap from 'tap'
import { clusterDirFor, startCluster, stopCluster } from '../../src/db/cluster.js'
import { freePort } from '../../src/db/embedded.js'
import { initialisedDataDir } from '../helpers/new-data-dir.js'

const ANOTHER_USER = 65534 // nobody
const isRoot = process.getuid?.() === 0

tap.test('a stale socket lock file of another user on the port does not stop the start', { skip: isRoot ? false : 'needs root: only root can leave a file of another user in /tmp (as a normal user Postgres removes its own stale lock)' }, async (t) => {
  const dir = await initialisedDataDir('livechat-socket-lock-')
  const port = await freePort()
  // what a Postgres killed with SIGKILL leaves behind: its lock, naming a process that is gone
  const lock = `/tmp/.s.PGSQL.${port}.lock`
  writeFileSync(lock, '999999\n', { mode: 0o600 })
  chownSync(lock, ANOTHER_USER, ANOTHER_USER)
  t.teardown(() => rmSync(lock, { force: true }))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))

  await startCluster(clusterDirFor(dir), port)
  t.teardown(() => stopCluster(clusterDirFor(dir)))
  const sql = postgres(`postgres://postgres:test-cluster-password@127.0.0.1:${port}/postgres`, { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end())
  const [row] = await sql<{ ok: number }[]>`select 1 as ok`
  t.equal(row?.ok, 1, 'the cluster takes connections over TCP')
})
