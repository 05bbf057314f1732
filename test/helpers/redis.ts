import { spawn } from 'node:child_process'
import { createConnection } from 'node:net'
import { freePort } from '../../src/db/embedded.js'

type Test = { teardown: (fn: () => unknown) => void }

/** A real redis-server (Debian's package) on a free loopback port, stopped when the test ends. */
export async function startRedis(t: Test): Promise<string> {
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  t.teardown(() => { child.kill('SIGTERM') })
  for (let attempt = 0; attempt < 100; attempt++) {
    const up = await new Promise<boolean>((resolve) => {
      const sock = createConnection({ port, host: '127.0.0.1' }, () => { sock.end(); resolve(true) })
      sock.on('error', () => resolve(false))
    })
    if (up) return `redis://127.0.0.1:${port}`
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error('redis-server did not start (is the redis-server package installed?)')
}
