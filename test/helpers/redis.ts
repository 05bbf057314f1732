import { spawn, type ChildProcess } from 'node:child_process'
import { createConnection } from 'node:net'
import { freePort } from '../../src/db/embedded.js'

type Test = { teardown: (fn: () => unknown) => void }

/** A redis-server a test can stall, kill and start again on the same port. */
export type RedisUnderTest = {
  url: string
  /** SIGSTOP: connections stay open, nothing is answered (a stalled or overloaded Redis) */
  stall: () => void
  resume: () => void
  /** SIGKILL: gone, counters with it */
  kill: () => Promise<void>
  /** a new server on the same port (after kill), resolved once it accepts connections */
  restart: () => Promise<void>
}

const accepts = (port: number) => new Promise<boolean>((resolve) => {
  const sock = createConnection({ port, host: '127.0.0.1' }, () => { sock.end(); resolve(true) })
  sock.on('error', () => resolve(false))
})

/** A real redis-server (Debian's package) on a free loopback port, stopped when the test ends. */
export async function startRedisServer(t: Test): Promise<RedisUnderTest> {
  const port = await freePort()
  let child: ChildProcess | undefined
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    for (let attempt = 0; attempt < 100; attempt++) {
      if (await accepts(port)) return
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error('redis-server did not start (is the redis-server package installed?)')
  }
  t.teardown(() => {
    child?.kill('SIGCONT')
    child?.kill('SIGTERM')
  })
  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    stall: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    kill: () => new Promise<void>((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGKILL')
    }),
    restart: start,
  }
}

/** A real redis-server's URL, stopped when the test ends. */
export const startRedis = async (t: Test): Promise<string> => (await startRedisServer(t)).url
