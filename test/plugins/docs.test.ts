import t from 'tap'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { buildTestApp } from '../helpers/app.js'

t.test('/docs/json is the OpenAPI description of every contract route', async (t) => {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(res.statusCode, 200)
  const doc = res.json()
  t.match(doc.openapi, /^3\./)
  const paths = Object.keys(doc.paths)
  for (const path of [
    '/api/public/chat/sessions', '/api/public/chat/sessions/{id}/messages',
    '/api/auth/login', '/api/auth/me',
    '/api/chat/sessions', '/api/chat/sessions/{id}', '/api/chat/sessions/{id}/messages', '/api/chat/sessions/{id}/read', '/api/chat/sessions/{id}/close', '/api/chat/stats',
    '/api/admin/users', '/api/admin/users/{id}', '/api/admin/sites', '/api/admin/sites/{id}', '/api/admin/sites/{id}/rotate',
    '/healthz',
  ]) t.ok(paths.includes(path), path)
  const send = doc.paths['/api/public/chat/sessions/{id}/messages'].post
  t.ok(send.requestBody.content['application/json'].schema.properties.text, 'request schemas come from TypeBox')
  t.ok(send.responses['201'], 'responses are described')
})

t.test('/docs serves the UI as HTML', async (t) => {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/docs' })
  const page = res.statusCode === 302 ? await app.inject({ method: 'GET', url: res.headers.location ?? '' }) : res
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /text\/html/)
})

type Operation = {
  parameters?: { name: string; schema: object }[]
  requestBody?: { content: Record<string, { schema: object }> }
  responses: Record<string, { content?: Record<string, { schema: object }> }>
}

/** Every operation of the served document, as `METHOD /path`. */
async function operations(t: Parameters<typeof buildTestApp>[0]): Promise<[string, Operation][]> {
  const app = await buildTestApp(t)
  const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, Operation>> }
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => [`${method.toUpperCase()} ${path}`, op] as [string, Operation]))
}

t.test('every schema in /docs/json is valid in OpenAPI 3.1\'s dialect, JSON Schema 2020-12 (no draft-07 tuple `items: [...]`)', async (t) => {
  const ajv = new Ajv2020({ strict: false })
  const invalid: string[] = []
  for (const [where, op] of await operations(t)) {
    const schemas = [
      ...(op.parameters ?? []).map((p) => [`parameter ${p.name}`, p.schema] as const),
      ...Object.entries(op.requestBody?.content ?? {}).map(([type, c]) => [`body ${type}`, c.schema] as const),
      ...Object.entries(op.responses).flatMap(([code, r]) => Object.entries(r.content ?? {}).map(([type, c]) => [`${code} ${type}`, c.schema] as const)),
    ]
    for (const [what, schema] of schemas) if (!ajv.validateSchema(schema)) invalid.push(`${where} ${what}: ${ajv.errorsText(ajv.errors)}`)
  }
  t.same(invalid, [])
})

t.test('an answer that is not JSON (transcript, export, file) is documented under its media type, and its errors as the JSON envelope', async (t) => {
  const ops = new Map(await operations(t))
  const errorsNotJson = [...ops].flatMap(([where, op]) => Object.entries(op.responses)
    .filter(([code, r]) => /^[45]/.test(code) && Object.keys(r.content ?? {}).join() !== 'application/json')
    .map(([code, r]) => `${where} ${code}: ${Object.keys(r.content ?? {}).join()}`))
  t.same(errorsNotJson, [], 'errors are { success: false, error } whatever the success answer is')
  const types = (where: string) => Object.keys(ops.get(where)?.responses['200']?.content ?? {})
  t.same(types('GET /api/public/chat/sessions/{id}/transcript'), ['text/plain'])
  t.same(types('GET /api/admin/export'), ['application/x-ndjson'])
  t.notOk(types('GET /api/files/{id}/{name}').includes('application/json'), 'a downloaded file is not documented as JSON')
})

t.test('every route documents the server errors it may answer (503 UNAVAILABLE when the database is away, 500 INTERNAL), in the envelope', async (t) => {
  const missing = (await operations(t)).filter(([, op]) => !Object.keys(op.responses).some((code) => code.startsWith('5'))).map(([where]) => where)
  t.same(missing, [])
})
