import t from 'tap'
import Fastify from 'fastify'
import { Type } from '@sinclair/typebox'
import { buildSerializer, compileValidator, schemaController } from '../../src/http/schema-compilers.js'

// module constants, as route schemas are: every app built in this process gets these objects
const query = Type.Object({ n: Type.Integer({ minimum: 1 }), tags: Type.Optional(Type.Array(Type.String())) })
const body = Type.Object({ n: Type.Integer(), note: Type.String({ default: 'none' }) }, { additionalProperties: false })
const reply = Type.Object({ n: Type.Integer(), at: Type.String({ format: 'date-time' }) })

function appWithRoutes() {
  const app = Fastify({ schemaController })
  app.setValidatorCompiler(compileValidator)
  app.get('/q', { schema: { querystring: query, response: { 200: reply } } }, async (req) => ({ ...(req.query as object), at: '2026-12-01T00:00:00.000Z', secret: 'not declared' }))
  app.post('/b', { schema: { body } }, async (req) => req.body)
  return app
}

t.test('every app built in one process validates, coerces and serializes as the first one did', async (t) => {
  for (const build of [1, 2, 3]) {
    const app = appWithRoutes()
    t.teardown(() => app.close())
    const q = await app.inject({ method: 'GET', url: '/q?n=5&tags=a' })
    t.equal(q.statusCode, 200, `build ${build}`)
    t.same(q.json(), { n: 5, at: '2026-12-01T00:00:00.000Z' }, `build ${build}: query text coerced, undeclared reply field dropped`)
    t.equal((await app.inject({ method: 'GET', url: '/q?n=0' })).statusCode, 400, `build ${build}: minimum holds`)
    t.same((await app.inject({ method: 'POST', url: '/b', payload: { n: 7 } })).json(), { n: 7, note: 'none' }, `build ${build}: defaults filled`)
    t.equal((await app.inject({ method: 'POST', url: '/b', payload: { n: '7' } })).statusCode, 400, `build ${build}: a JSON body is not coerced`)
    t.equal((await app.inject({ method: 'POST', url: '/b', payload: { n: 7, extra: 1 } })).statusCode, 400, `build ${build}: unknown body fields refused`)
  }
})

t.test('a serializer is compiled once per schema object, and again when shared schemas are in play', async (t) => {
  const route = { schema: reply, method: 'GET', url: '/q', httpStatus: '200' }
  t.equal(buildSerializer(undefined, undefined)(route), buildSerializer(undefined, undefined)(route))
  t.equal(buildSerializer({}, {})(route), buildSerializer(undefined, undefined)(route), 'no shared schemas: the same')
  const shared = { 'thing': { $id: 'thing', type: 'object', properties: { n: { type: 'integer' } } } }
  t.not(buildSerializer(shared, undefined)(route), buildSerializer(shared, undefined)(route), 'with shared schemas: compiled each time, as Fastify does')
})

t.test('a schema with an $id may come back from another build as a new object', async (t) => {
  for (const build of [1, 2]) {
    const app = Fastify({ schemaController })
    app.setValidatorCompiler(compileValidator)
    t.teardown(() => app.close())
    app.post('/x', { schema: { body: { $id: 'x-body', type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] } } }, async (req) => req.body)
    t.equal((await app.inject({ method: 'POST', url: '/x', payload: { n: 1 } })).statusCode, 200, `build ${build}`)
    t.equal((await app.inject({ method: 'POST', url: '/x', payload: {} })).statusCode, 400, `build ${build}`)
  }
})

t.test('with shared schemas, each app serializes by its own', async (t) => {
  const ref = { type: 'object', properties: { thing: { $ref: 'thing#' } } }
  for (const key of ['a', 'b']) {
    const props = { [key]: { type: 'string' } }
    const app = Fastify({ schemaController })
    t.teardown(() => app.close())
    app.addSchema({ $id: 'thing', type: 'object', properties: props })
    app.get('/t', { schema: { response: { 200: ref } } }, async () => ({ thing: { a: 'A', b: 'B' } }))
    t.same((await app.inject({ method: 'GET', url: '/t' })).json(), { thing: { [key]: key.toUpperCase() } })
  }
})

t.test("a route's schemas are compiled on its first request, not when the app is built", async (t) => {
  const app = Fastify({ schemaController })
  app.setValidatorCompiler(compileValidator)
  t.teardown(() => app.close())
  // a schema Ajv refuses: compiled eagerly, it would fail the build (ready)
  app.post('/refused', { schema: { body: { type: 'no such type' } } }, async () => 'never')
  app.get('/fine', { schema: { response: { 200: reply } } }, async () => ({ n: 1, at: '2026-12-01T00:00:00.000Z' }))
  await app.ready()
  t.pass('built without compiling /refused')
  t.equal((await app.inject({ method: 'GET', url: '/fine' })).statusCode, 200, 'other routes serve')
  t.equal((await app.inject({ method: 'POST', url: '/refused', payload: {} })).statusCode, 500, 'the refused schema fails its first request')
})
