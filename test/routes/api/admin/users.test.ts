import { randomUUID } from 'node:crypto'
import t from 'tap'
import { buildTestApp } from '../../../helpers/app.js'
import { bearer, makeStaff, uniq } from '../../../helpers/fixtures.js'

const usersUrl = '/api/admin/users'

t.test('an agent gets 403 on every user route; no token is 401', async (t) => {
  const app = await buildTestApp(t)
  const agent = await makeStaff(app, 'agent')
  const admin = await makeStaff(app, 'admin')
  const routes = [
    { method: 'GET' as const, url: usersUrl },
    { method: 'POST' as const, url: usersUrl, payload: { email: 'x@example.com', name: 'X', password: 'password123', role: 'agent' } },
    { method: 'GET' as const, url: `${usersUrl}/${admin.id}` },
    { method: 'PATCH' as const, url: `${usersUrl}/${admin.id}`, payload: { disabled: true } },
  ]
  for (const route of routes) {
    const res = await app.inject({ ...route, headers: bearer(agent) })
    t.equal(res.statusCode, 403, `${route.method} ${route.url}`)
    t.equal(res.json().error.code, 'FORBIDDEN')
    t.equal((await app.inject(route)).statusCode, 401)
  }
})

t.test('an admin creates, lists, reads and updates users', async (t) => {
  const app = await buildTestApp(t)
  const admin = await makeStaff(app, 'admin')
  const email = `${uniq('new')}@Example.com`
  const created = await app.inject({ method: 'POST', url: usersUrl, headers: bearer(admin), payload: { email, name: 'Nova', password: 'password123', role: 'agent' } })
  t.equal(created.statusCode, 201)
  const user = created.json().data.user
  t.match(user, { email: email.toLowerCase(), name: 'Nova', role: 'agent', disabled: false })
  t.notOk('passwordHash' in user)
  const listed = await app.inject({ method: 'GET', url: usersUrl, headers: bearer(admin) })
  t.ok(listed.json().data.users.some((u: { id: string }) => u.id === user.id))
  t.equal((await app.inject({ method: 'GET', url: `${usersUrl}/${user.id}`, headers: bearer(admin) })).json().data.user.id, user.id)
  const duplicate = await app.inject({ method: 'POST', url: usersUrl, headers: bearer(admin), payload: { email, name: 'Again', password: 'password123', role: 'agent' } })
  t.equal(duplicate.statusCode, 409)
  const patched = await app.inject({ method: 'PATCH', url: `${usersUrl}/${user.id}`, headers: bearer(admin), payload: { name: 'Nova K', role: 'admin' } })
  t.equal(patched.statusCode, 200)
  t.match(patched.json().data.user, { name: 'Nova K', role: 'admin' })
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: 'password123' } })
  t.equal(login.statusCode, 200, 'the new user can log in')
  for (const payload of [{}, { role: 'owner' }, { password: 'short' }, { name: '' }, { isAdmin: true }, { telegramUserId: 1e30 }]) {
    const bad = await app.inject({ method: 'PATCH', url: `${usersUrl}/${user.id}`, headers: bearer(admin), payload })
    t.equal(bad.statusCode, 400, JSON.stringify(payload))
  }
  for (const payload of [{ email: 'not-an-email', name: 'X', password: 'password123', role: 'agent' }, { email: 'a@example.com', name: 'X', password: 'password123' }]) {
    const bad = await app.inject({ method: 'POST', url: usersUrl, headers: bearer(admin), payload })
    t.equal(bad.statusCode, 400, JSON.stringify(payload))
  }
  for (const id of [randomUUID(), 'nope']) {
    t.equal((await app.inject({ method: 'PATCH', url: `${usersUrl}/${id}`, headers: bearer(admin), payload: { name: 'X' } })).statusCode, 404)
    t.equal((await app.inject({ method: 'GET', url: `${usersUrl}/${id}`, headers: bearer(admin) })).statusCode, 404)
  }
})

t.test("disabling a user through the API revokes their tokens at once", async (t) => {
  const app = await buildTestApp(t)
  const admin = await makeStaff(app, 'admin')
  const agent = await makeStaff(app, 'agent')
  t.equal((await app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(agent) })).statusCode, 200)
  const res = await app.inject({ method: 'PATCH', url: `${usersUrl}/${agent.id}`, headers: bearer(admin), payload: { disabled: true } })
  t.equal(res.statusCode, 200)
  t.equal(res.json().data.user.disabled, true)
  t.equal((await app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(agent) })).statusCode, 401)
  t.equal((await app.inject({ method: 'GET', url: '/api/chat/sessions', headers: bearer(agent) })).statusCode, 401)
})

t.test('an admin cannot disable or demote themselves', async (t) => {
  const app = await buildTestApp(t)
  const admin = await makeStaff(app, 'admin')
  for (const payload of [{ disabled: true }, { role: 'agent' }]) {
    const res = await app.inject({ method: 'PATCH', url: `${usersUrl}/${admin.id}`, headers: bearer(admin), payload })
    t.equal(res.statusCode, 409)
  }
  t.equal((await app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(admin) })).statusCode, 200)
})

t.test('a blank name is refused like an empty one: it would sign agent replies with nothing', async (t) => {
  const app = await buildTestApp(t)
  const admin = await makeStaff(app, 'admin')
  for (const name of ['   ', '\t\n', '\u00a0']) {
    const created = await app.inject({ method: 'POST', url: usersUrl, headers: bearer(admin), payload: { email: `${uniq('u')}@example.com`, name, password: 'long enough pw', role: 'agent' } })
    t.equal(created.statusCode, 400, `create with ${JSON.stringify(name)}`)
    t.equal(created.json().error.code, 'VALIDATION_ERROR')
    const patched = await app.inject({ method: 'PATCH', url: `${usersUrl}/${admin.id}`, headers: bearer(admin), payload: { name } })
    t.equal(patched.statusCode, 400, `patch with ${JSON.stringify(name)}`)
  }
  const fine = await app.inject({ method: 'PATCH', url: `${usersUrl}/${admin.id}`, headers: bearer(admin), payload: { name: ' Olena K. ' } })
  t.equal(fine.statusCode, 200, 'a name with spaces around letters is fine')
})
