import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import { waitFor } from './wait.js'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const STARTUP_TIMEOUT_MS = 60_000
const EXIT_TIMEOUT_MS = 15_000

export type RunningServer = {
  api: string
  output: () => string
  /** the exit code once it exited (waits up to 15 s), or 'still running' */
  exitCode: () => Promise<number | null | 'still running'>
  running: () => boolean
  kill: (signal: NodeJS.Signals) => void
  /** a signal to the whole process group (what a terminal or a process manager sends); needs `group` */
  killGroup: (signal: NodeJS.Signals) => void
}

export type ServerOptions = {
  /** the project folder to run in (default: this one) */
  cwd?: string
  /** default: node --import tsx src/server.ts (what `npm start` execs) */
  command?: string[]
  /** node options before the script, e.g. an --import */
  nodeArgs?: string[]
  /** a process group of its own, for killGroup */
  group?: boolean
}

/** The server as a child process; answers once the banner shows the bound port. */
export async function startServer(t: Test, env: Record<string, string>, opts: ServerOptions = {}): Promise<RunningServer> {
  const [file, ...args] = opts.command ?? [process.execPath, ...(opts.nodeArgs ?? []), '--import', 'tsx', 'src/server.ts']
  const child = spawn(file ?? process.execPath, args, {
    cwd: opts.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.group === true,
  })
  const pid = child.pid ?? 0
  const killGroup = (signal: NodeJS.Signals) => process.kill(-pid, signal)
  t.teardown(() => {
    if (child.exitCode !== null) return
    if (opts.group) {
      try {
        killGroup('SIGKILL')
      } catch {
        // gone already
      }
    } else {
      child.kill('SIGKILL')
    }
  })
  let output = ''
  child.stdout.on('data', (c: Buffer) => { output += c.toString() })
  child.stderr.on('data', (c: Buffer) => { output += c.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const base = await waitFor('the welcome banner', async () => {
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}: ${output}`)
    return /Dashboard:\s+(http:\/\/localhost:\d+)\/admin/.exec(output)?.[1]
  }, STARTUP_TIMEOUT_MS)
  return {
    api: base.replace('localhost', '127.0.0.1'),
    output: () => output,
    running: () => child.exitCode === null && child.signalCode === null,
    kill: (signal) => child.kill(signal),
    killGroup,
    exitCode: async () => {
      let timer: NodeJS.Timeout | undefined
      const code = await Promise.race([exited, new Promise<'still running'>((r) => { timer = setTimeout(() => r('still running'), EXIT_TIMEOUT_MS) })])
      clearTimeout(timer)
      return code
    },
  }
}
