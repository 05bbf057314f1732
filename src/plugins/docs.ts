import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { ErrorBody } from '../http/schemas.js'

/**
 * OpenAPI 3.1 speaks JSON Schema 2020-12, where a tuple is `prefixItems` (with `items: false`
 * for "nothing more"); TypeBox's Type.Tuple writes draft-07's `items: [...]` and
 * `additionalItems`, which 2020-12 tools reject as an invalid schema.
 */
function tuplesAs2020(node: unknown): void {
  if (typeof node !== 'object' || node === null) return
  const schema = node as Record<string, unknown>
  if (Array.isArray(schema.items)) {
    schema.prefixItems = schema.items
    if (schema.additionalItems === false) schema.items = false
    else delete schema.items
    delete schema.additionalItems
  }
  for (const child of Object.values(schema)) tuplesAs2020(child)
}

const SERVER_ERROR = {
  description: 'UNAVAILABLE (503: the database cannot be reached right now; retry) or INTERNAL (500), in the error envelope',
  content: { 'application/json': { schema: ErrorBody } },
}

type Paths = Record<string, Record<string, { responses?: Record<string, unknown> }>>

/** Any route may answer 503 or 500; a route's schema lists only the answers of its own. */
function documentServerErrors(paths: Paths): void {
  for (const operations of Object.values(paths)) {
    for (const op of Object.values(operations)) {
      if (op.responses && !Object.keys(op.responses).some((code) => code.startsWith('5'))) op.responses['5XX'] = SERVER_ERROR
    }
  }
}

/** OpenAPI generated from the routes' TypeBox schemas: UI at /docs, JSON at /docs/json (or /docs with Accept: application/json). */
export default fp(async (app) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Live chat API',
        version: '1.0.0',
        description: 'Public widget API (`/api/public/chat`, X-API-Key + X-Session-Token or X-API-Secret), admin API (`/api/chat`, `/api/auth`, `/api/admin`, Bearer JWT). Every JSON response is `{ success, data }` or `{ success: false, error: { code, message, details? } }`.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          sessionToken: { type: 'apiKey', in: 'header', name: 'X-Session-Token' },
          apiSecret: { type: 'apiKey', in: 'header', name: 'X-API-Secret' },
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        },
      },
    },
    transformObject: (document) => {
      // the Swagger 2 form is never asked for: openapi is configured above
      if (!('openapiObject' in document)) return document.swaggerObject
      tuplesAs2020(document.openapiObject)
      documentServerErrors((document.openapiObject.paths ?? {}) as Paths)
      return document.openapiObject
    },
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiHooks: {
      onRequest: async (req, reply) => {
        const path = req.url.split('?')[0]
        if ((path === '/docs' || path === '/docs/') && /application\/json/.test(req.headers.accept ?? '') && !/text\/html/.test(req.headers.accept ?? '')) {
          return reply.send(app.swagger())
        }
      },
    },
  })
}, { name: 'docs' })
