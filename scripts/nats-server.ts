/** A real nats-server (Debian's package, core NATS) on a free loopback port, for tests and benches. */
import { spawn, type ChildProcess } from 'node:child_process'
import { createConnection } from 'node:net'
import { freePort } from '../src/db/embedded.js'
import { commandPath } from './system-requirements.js'

export type NatsServer = {
  url: string
  /** SIGKILL: connections drop without a goodbye; start() brings it back on the same port */
  kill: () => Promise<void>
  start: () => Promise<void>
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ port, host: '127.0.0.1' }, () => { sock.end(); resolve(true) })
    sock.on('error', () => resolve(false))
  })
}

export async function startNatsServer(): Promise<NatsServer> {
  const binary = commandPath('nats-server')
  if (!binary) throw new Error('nats-server is not installed (Debian package "nats-server": apt-get install nats-server)')
  const port = await freePort()
  let child: ChildProcess | undefined
  const start = async () => {
    child = spawn(binary, ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' })
    for (let attempt = 0; attempt < 200; attempt++) {
      if (await portOpen(port)) return
      if (child.exitCode !== null) break
      await new Promise((r) => setTimeout(r, 25))
    }
    throw new Error(`nats-server did not start on port ${port}`)
  }
  const kill = async () => {
    const running = child
    if (!running || running.exitCode !== null) return
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve())
      running.kill('SIGKILL')
    })
  }
  await start()
  return { url: `nats://127.0.0.1:${port}`, kill, start }
}
