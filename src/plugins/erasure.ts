import fp from 'fastify-plugin'
import type { ErasureStep } from '../chat/erasure.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * What every erasure (admin, visitor, retention) runs besides the cascade. A feature that
     * keeps session data outside it (attachments in S3, ...) pushes its step here when it loads.
     */
    erasureSteps: ErasureStep[]
  }
}

export default fp(async (app) => {
  app.decorate('erasureSteps', [] as ErasureStep[])
}, { name: 'erasure' })
