import { spawn, type ChildProcess } from 'node:child_process'
import { createConnection } from 'node:net'
import { freePort } from '../../src/db/embedded.js'
import { commandPath } from '../../scripts/system-requirements.js'

type Test = { teardown: (fn: () => unknown) => void }

export type NatsServer = {
  url: string
  /** stops the server (SIGKILL: connections drop without a goodbye); start() brings it back on the same port */
  kill: () => Promise<void>
  start: () => Promise<void>
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ port, host: '127.0.0.1' }, () => { sock.end(); resolve(true) })
    sock.on('error', () => resolve(false))
  })
}

/** A real nats-server (Debian's package, core NATS) on a free loopback port, stopped when the test ends. */
export async function startNats(t: Test): Promise<NatsServer> {
  const port = await freePort()
  const binary = commandPath('nats-server') ?? 'nats-server'
  let child: ChildProcess | undefined
  const start = async () => {
    child = spawn(binary, ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' })
    for (let attempt = 0; attempt < 200; attempt++) {
      if (await portOpen(port)) return
      await new Promise((r) => setTimeout(r, 25))
    }
    throw new Error('nats-server did not start (is the nats-server package installed?)')
  }
  const kill = async () => {
    const running = child
    if (!running || running.exitCode !== null) return
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve())
      running.kill('SIGKILL')
    })
  }
  t.teardown(kill)
  await start()
  return { url: `nats://127.0.0.1:${port}`, kill, start }
}
