import { createHmac } from 'node:crypto'
import t from 'tap'
import { updateUser } from '../../../../src/chat/users.js'
import { buildTestApp } from '../../../helpers/app.js'
import { bearer, makeStaff } from '../../../helpers/fixtures.js'

const me = (token: string) => ({ method: 'GET' as const, url: '/api/auth/me', headers: { authorization: `Bearer ${token}` } })
const login = (payload: Record<string, unknown>) => ({ method: 'POST' as const, url: '/api/auth/login', payload })

const b64 = (x: object) => Buffer.from(JSON.stringify(x)).toString('base64url')
function signHs256(claims: object, secret: string, header: object = { alg: 'HS256', typ: 'JWT' }): string {
  const unsigned = `${b64(header)}.${b64(claims)}`
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`
}

t.test('login returns a token that opens /me, and the user without secrets', async (t) => {
  const app = await buildTestApp(t)
  const staff = await makeStaff(app, 'admin', 'Iryna')
  const res = await app.inject(login({ email: staff.email.toUpperCase(), password: staff.password }))
  t.equal(res.statusCode, 200)
  const data = res.json().data
  t.match(data.user, { id: staff.id, email: staff.email, name: 'Iryna', role: 'admin' })
  t.notOk('passwordHash' in data.user)
  const who = await app.inject(me(data.token))
  t.equal(who.statusCode, 200)
  t.match(who.json().data.user, { id: staff.id, role: 'admin' })
})

t.test('wrong password and unknown email are the same 401', async (t) => {
  const app = await buildTestApp(t)
  const staff = await makeStaff(app)
  const wrong = await app.inject(login({ email: staff.email, password: 'not the password' }))
  const unknown = await app.inject(login({ email: 'nobody@example.com', password: 'not the password' }))
  t.equal(wrong.statusCode, 401)
  t.equal(unknown.statusCode, 401)
  t.same(wrong.json(), unknown.json())
  t.equal(wrong.json().error.code, 'UNAUTHORIZED')
  const invalid = await app.inject(login({ email: staff.email }))
  t.equal(invalid.statusCode, 400)
  const extra = await app.inject(login({ email: staff.email, password: staff.password, remember: true }))
  t.equal(extra.statusCode, 400)
})

t.test('missing, malformed, forged, expired and wrong-algorithm tokens are 401', async (t) => {
  const app = await buildTestApp(t)
  const staff = await makeStaff(app)
  const now = Math.floor(Date.now() / 1000)
  const claims = { sub: staff.id, role: 'agent', tv: 0, iat: now }
  const realSecret = 'test-secret-test-secret-test-secret'
  t.equal((await app.inject(me(signHs256({ ...claims, exp: now + 600 }, realSecret)))).statusCode, 200, 'control: a well-signed token works')
  const bad = {
    missing: await app.inject({ method: 'GET', url: '/api/auth/me' }),
    notBearer: await app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Basic ${staff.token}` } }),
    garbage: await app.inject(me('not.a.jwt')),
    forged: await app.inject(me(signHs256({ ...claims, exp: now + 600 }, 'another-secret-another-secret'))),
    expired: await app.inject(me(signHs256({ ...claims, iat: now - 7200, exp: now - 3600 }, realSecret))),
    algNone: await app.inject(me(`${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, exp: now + 600 })}.`)),
    alg384: await app.inject(me((() => {
      const unsigned = `${b64({ alg: 'HS384', typ: 'JWT' })}.${b64({ ...claims, exp: now + 600 })}`
      return `${unsigned}.${createHmac('sha384', realSecret).update(unsigned).digest('base64url')}`
    })())),
    unknownUser: await app.inject(me(signHs256({ ...claims, sub: '00000000-0000-4000-8000-000000000000', exp: now + 600 }, realSecret))),
    malformedSubject: await app.inject(me(signHs256({ ...claims, sub: 'not-a-uuid', exp: now + 600 }, realSecret))),
  }
  for (const [name, res] of Object.entries(bad)) {
    t.equal(res.statusCode, 401, name)
    t.equal(res.json().error.code, 'UNAUTHORIZED', name)
  }
})

t.test("a disabled user's token stops working and the user cannot log in", async (t) => {
  const app = await buildTestApp(t)
  const staff = await makeStaff(app)
  t.equal((await app.inject({ method: 'GET', url: '/api/chat/sessions', headers: bearer(staff) })).statusCode, 200)
  await updateUser(app.db, app.bus, staff.id, { disabled: true })
  t.equal((await app.inject({ method: 'GET', url: '/api/chat/sessions', headers: bearer(staff) })).statusCode, 401)
  t.equal((await app.inject(me(staff.token))).statusCode, 401)
  t.equal((await app.inject(login({ email: staff.email, password: staff.password }))).statusCode, 401)
})

t.test('a password change revokes earlier tokens', async (t) => {
  const app = await buildTestApp(t)
  const staff = await makeStaff(app)
  await updateUser(app.db, app.bus, staff.id, { password: 'a new password here' })
  t.equal((await app.inject(me(staff.token))).statusCode, 401)
  const fresh = await app.inject(login({ email: staff.email, password: 'a new password here' }))
  t.equal((await app.inject(me(fresh.json().data.token))).statusCode, 200)
})

t.test('every staff route answers a missing or forged token 401, and an agent on an admin route 403, before it looks at the body or query', async (t) => {
  const app = await buildTestApp(t)
  const agent = await makeStaff(app)
  const spec = app.swagger() as unknown as { paths: Record<string, Record<string, unknown>> }
  const id = '00000000-0000-4000-8000-000000000000'
  const routes = Object.entries(spec.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => ({ method: method.toUpperCase(), url: path.replace(/\{[^}]+\}/g, id) })))
    .filter((r) => /^\/api\/(chat|admin|auth)\//.test(r.url) && r.url !== '/api/auth/login' && r.url !== '/api/chat/ws')
  t.ok(routes.length >= 30, `${routes.length} staff routes`)
  // a body of the wrong shape and of the wrong type: neither may be judged before who asks
  const bodies: { payload?: string | object; headers?: Record<string, string> }[] = [{ payload: { unknown: true } }, { payload: '{', headers: { 'content-type': 'application/json' } }, { payload: 'text', headers: { 'content-type': 'text/plain' } }]
  const forged = signHs256({ sub: agent.id, role: 'admin', tv: 0 }, 'not the secret')
  for (const r of routes) {
    for (const body of r.method === 'GET' || r.method === 'DELETE' ? [{}] : bodies) {
      const headers = body.headers ?? {}
      for (const authorization of [undefined, `Bearer ${forged}`]) {
        const res = await app.inject({ method: r.method as 'GET', url: r.url, payload: body.payload, headers: { ...headers, ...(authorization ? { authorization } : {}) } })
        t.equal(res.statusCode, 401, `${r.method} ${r.url} ${JSON.stringify(body.payload ?? '')} ${authorization ? 'forged' : 'no token'}: ${res.body.slice(0, 120)}`)
      }
      if (r.url.startsWith('/api/admin/')) {
        const res = await app.inject({ method: r.method as 'GET', url: r.url, payload: body.payload, headers: { ...headers, ...bearer(agent) } })
        t.equal(res.statusCode, 403, `${r.method} ${r.url} ${JSON.stringify(body.payload ?? '')} as an agent: ${res.body.slice(0, 120)}`)
      }
    }
  }
})
