import { startNatsServer, type NatsServer } from '../../scripts/nats-server.js'

export type { NatsServer }

/** A real nats-server on a free loopback port, killed when the test ends. */
export async function startNats(t: { teardown: (fn: () => unknown) => void }): Promise<NatsServer> {
  const server = await startNatsServer()
  t.teardown(server.kill)
  return server
}
