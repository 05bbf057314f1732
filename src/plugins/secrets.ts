import fp from 'fastify-plugin'
import { secretBoxFor, type SecretBox } from '../chat/secret-box.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** seals and opens secrets at rest (SECRETS_KEY, or derived from JWT_SECRET) */
    secretBox: SecretBox
  }
}

export default fp(async (app) => {
  app.decorate('secretBox', secretBoxFor(app.config))
}, { name: 'secrets' })
