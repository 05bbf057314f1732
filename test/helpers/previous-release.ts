import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../src/db/embedded.js'
import { waitFor } from './wait.js'

type Test = { teardown: (fn: () => unknown) => void }
type Journal = { entries: { tag: string; when: number }[] }

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const JOURNAL = 'drizzle/meta/_journal.json'

const gitIn = (cwd: string) => (...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()

class NoHistory extends Error {}

function journalAt(git: ReturnType<typeof gitIn>, commit: string): Journal | undefined {
  try {
    return JSON.parse(git('show', `${commit}:${JOURNAL}`)) as Journal
  } catch {
    return undefined
  }
}

const isStrictPrefix = (older: Journal, newer: Journal) =>
  older.entries.length < newer.entries.length && older.entries.every((e, i) => e.tag === newer.entries[i]?.tag && e.when === newer.entries[i]?.when)

/**
 * The release a rolling upgrade to this working tree starts from: the newest `v*` tag before
 * HEAD if there is one; else the code just before the newest migration was added (the last
 * first-parent ancestor whose migrations are a strict prefix of ours), since that is the
 * change a rolling upgrade must survive; else, while there is only one migration, HEAD's
 * first parent. Needs the git history and says so loudly when it is missing.
 */
export function previousRelease(root = ROOT): { commit: string; why: string } {
  const git = gitIn(root)
  try {
    if (git('rev-parse', '--is-shallow-repository') === 'true') {
      throw new NoHistory('this clone is shallow: run `git fetch --unshallow` (the rolling-upgrade test needs the previous release from the git history)')
    }
  } catch (err) {
    if (err instanceof NoHistory) throw err
    throw new NoHistory(`no git history here (${(err as Error).message.split('\n')[0]}): the rolling-upgrade test needs a git clone with its history`)
  }
  const tag = (() => {
    try {
      return git('describe', '--tags', '--abbrev=0', '--match', 'v*', 'HEAD^')
    } catch {
      return undefined
    }
  })()
  if (tag) return { commit: git('rev-parse', `${tag}^{commit}`), why: `the last tagged release, ${tag}` }
  const ours = JSON.parse(readFileSync(join(root, JOURNAL), 'utf8')) as Journal
  for (const changed of git('log', '--first-parent', '--format=%H', 'HEAD', '--', JOURNAL).split('\n').filter(Boolean)) {
    const before = journalAt(git, `${changed}^`)
    if (before && isStrictPrefix(before, ours)) {
      const commit = git('rev-parse', `${changed}^`)
      return { commit, why: `the code before migration ${ours.entries[before.entries.length]?.tag} (${commit.slice(0, 8)})` }
    }
  }
  return { commit: git('rev-parse', 'HEAD^'), why: 'HEAD^ (this release has no migration newer than the first)' }
}

/** The release's files in a temporary folder, running on this checkout's node_modules. */
export function checkOut(t: Test, commit: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'livechat-previous-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // git archive reads objects only: no worktree is registered in the shared repository
  execFileSync('sh', ['-c', 'git archive --format=tar "$1" | tar -x -C "$2"', 'sh', commit, dir], { cwd: ROOT })
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }
  const missing = Object.keys(pkg.dependencies ?? {}).filter((name) => !existsSync(join(ROOT, 'node_modules', name)))
  if (missing.length > 0) throw new Error(`the previous release (${commit.slice(0, 8)}) needs ${missing.join(', ')}, which this checkout's node_modules lack`)
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
  return dir
}

export type RunningServer = { origin: string; stop: () => Promise<void>; output: () => string }

/** `node src/server.ts` of the release in `dir`, listening on loopback; stopped with the test. */
export async function startServer(t: Test, dir: string, env: Record<string, string>): Promise<RunningServer> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr.on('data', (d: Buffer) => (output += d.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
  }
  t.teardown(stop)
  const origin = `http://127.0.0.1:${port}`
  await waitFor(`the server in ${dir} to answer`, async () => {
    if (child.exitCode !== null) throw new Error(`the server in ${dir} exited with ${child.exitCode}:\n${output}`)
    return fetch(`${origin}/healthz`).then((r) => r.ok, () => false)
  }, 60_000).catch((err: Error) => {
    throw new Error(`${err.message}; its output:\n${output}`)
  })
  return { origin, stop, output: () => output }
}
