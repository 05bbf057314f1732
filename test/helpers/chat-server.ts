import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { fileDatabaseUrl, testConfig } from './app.js'

type Test = { teardown: (fn: () => unknown) => void }

export type ChatServer = {
  readonly app: FastifyInstance
  readonly origin: string
  /**
   * closes the server (draining, as on SIGTERM) and starts a new one on the same database;
   * `whileDown` runs once the old one's port is free, before the new one listens (on another port)
   */
  restart(whileDown?: () => void): Promise<void>
}

/** The real app listening on loopback, which a test can restart; closed when the test ends. */
export async function restartableServer(t: Test, env: Record<string, string> = {}): Promise<ChatServer> {
  const databaseUrl = await fileDatabaseUrl()
  const start = async () => {
    const app = await buildApp({ config: testConfig(env), databaseUrl, logger: false })
    await app.listen({ port: 0, host: '127.0.0.1' })
    return app
  }
  let app = await start()
  t.teardown(() => app.close())
  return {
    get app() {
      return app
    },
    get origin() {
      return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    },
    async restart(whileDown) {
      await app.close()
      whileDown?.()
      app = await start()
    },
  }
}
