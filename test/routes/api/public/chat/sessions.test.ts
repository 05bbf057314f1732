import t from 'tap'
import { closeSession } from '../../../../../src/chat/sessions.js'
import { buildTestApp } from '../../../../helpers/app.js'
import { makeSession, makeSite, poll, startSessionRequest, uniq } from '../../../../helpers/fixtures.js'

const URL = '/api/public/chat/sessions'

t.test('a new userSessionId creates a session (201) with firstMessage as seq 1 and a token', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const userSessionId = uniq('visitor-')
  const res = await app.inject(startSessionRequest(site, { userSessionId, firstMessage: 'Hello', name: 'Olena', phone: '+380 (67) 123-45-67' }))
  t.equal(res.statusCode, 201)
  const data = res.json().data
  t.equal(data.userSessionId, userSessionId)
  t.equal(data.sessionId, data.session.id)
  t.match(data.session, { status: 'open', name: 'Olena', phone: '+380 (67) 123-45-67', lastSeq: 1, userSessionId })
  t.match(data.token, /^st_/)
  t.same(data.messages.map((m: { seq: number; text: string; sender: string; senderName: string }) => [m.seq, m.text, m.sender, m.senderName]), [[1, 'Hello', 'visitor', 'Olena']])
})

t.test('the same userSessionId resumes the open session (200): contact updated, firstMessage appended, same token', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const userSessionId = uniq('visitor-')
  const first = (await app.inject(startSessionRequest(site, { userSessionId, firstMessage: 'one' }))).json().data
  const res = await app.inject(startSessionRequest(site, { userSessionId, firstMessage: 'two', name: 'Taras', phone: '067 123', email: 't@example.com' }))
  t.equal(res.statusCode, 200)
  const data = res.json().data
  t.equal(data.sessionId, first.sessionId)
  t.equal(data.token, first.token)
  t.match(data.session, { name: 'Taras', phone: '067 123', lastSeq: 2 })
  t.same(data.messages.map((m: { text: string }) => m.text), ['one', 'two'])
  const again = await app.inject(startSessionRequest(site, { userSessionId }))
  t.equal(again.statusCode, 200, 'resuming without firstMessage appends nothing')
  t.equal(again.json().data.messages.length, 2)
  t.equal(again.json().data.session.name, 'Taras', 'omitted contact fields keep their values')
})

t.test('null, absent or empty userSessionId gets a generated one; every call is a new session', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const ids = new Set<string>()
  for (const body of [{}, { userSessionId: null }, { userSessionId: null, name: null, email: '', locale: '' }]) {
    const res = await app.inject(startSessionRequest(site, body))
    t.equal(res.statusCode, 201, JSON.stringify(body))
    t.match(res.json().data.userSessionId, /^[A-Za-z0-9_-]{8,128}$/)
    ids.add(res.json().data.sessionId)
  }
  t.equal(ids.size, 3)
  const noBody = await app.inject({ method: 'POST', url: URL, headers: { 'x-api-key': site.apiKey } })
  t.equal(noBody.statusCode, 201, 'no body at all is an empty request')
})

t.test('a closed session is not resumed: the same userSessionId starts a new one', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const s = await makeSession(app, site)
  await closeSession(app.db, app.bus, s.id)
  const res = await app.inject(startSessionRequest(site, { userSessionId: s.userSessionId }))
  t.equal(res.statusCode, 201)
  t.not(res.json().data.sessionId, s.id)
})

t.test('invalid fields are 400 VALIDATION_ERROR naming the field', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const cases: [Record<string, unknown>, string][] = [
    [{ userSessionId: 'short' }, 'userSessionId'],
    [{ userSessionId: 'has spaces in it' }, 'userSessionId'],
    [{ userSessionId: 'x'.repeat(129) }, 'userSessionId'],
    [{ firstMessage: '   ' }, 'firstMessage'],
    [{ firstMessage: 'x'.repeat(4001) }, 'firstMessage'],
    [{ name: 'n'.repeat(101) }, 'name'],
    [{ phone: 'call me maybe' }, 'phone'],
    [{ phone: '1'.repeat(33) }, 'phone'],
    [{ email: 'not-an-email' }, 'email'],
    [{ userSessionId: 12345678 }, 'userSessionId'],
    [{ unexpected: 1 }, 'unexpected'],
  ]
  for (const [body, field] of cases) {
    const res = await app.inject(startSessionRequest(site, body))
    t.equal(res.statusCode, 400, JSON.stringify(body).slice(0, 60))
    t.equal(res.json().success, false)
    t.equal(res.json().error.code, 'VALIDATION_ERROR')
    t.match(res.json().error.message, field)
  }
})

t.test('4000 emoji are one character each and accepted as firstMessage', async (t) => {
  const app = await buildTestApp(t)
  const s = await makeSession(app, await makeSite(app), { firstMessage: '😀'.repeat(4000) })
  t.equal((await poll(app, s))[0]?.text, '😀'.repeat(4000))
})

t.test('a body that is not JSON is 415, malformed JSON 400, an oversized body 413', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const headers = { 'x-api-key': site.apiKey }
  const text = await app.inject({ method: 'POST', url: URL, headers: { ...headers, 'content-type': 'text/plain' }, payload: 'hello' })
  t.equal(text.statusCode, 415)
  t.same(text.json().error.code, 'UNSUPPORTED_MEDIA_TYPE')
  const form = await app.inject({ method: 'POST', url: URL, headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=b' })
  t.equal(form.statusCode, 415)
  const charset = await app.inject({ method: 'POST', url: URL, headers: { ...headers, 'content-type': 'application/json; charset=utf-8' }, payload: '{"firstMessage":"hi"}' })
  t.equal(charset.statusCode, 201, 'a charset parameter is fine')
  const broken = await app.inject({ method: 'POST', url: URL, headers: { ...headers, 'content-type': 'application/json' }, payload: '{"firstMessage": "hi"' })
  t.equal(broken.statusCode, 400)
  t.match(broken.json(), { success: false, error: { code: 'VALIDATION_ERROR' } })
  const notObject = await app.inject({ method: 'POST', url: URL, headers: { ...headers, 'content-type': 'application/json' }, payload: '[1,2]' })
  t.equal(notObject.statusCode, 400)
  t.equal(notObject.json().error.code, 'VALIDATION_ERROR')
  const huge = await app.inject({ method: 'POST', url: URL, headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify({ firstMessage: 'x'.repeat(70_000) }) })
  t.equal(huge.statusCode, 413)
  t.match(huge.json(), { success: false, error: { code: 'PAYLOAD_TOO_LARGE' } })
})

t.test('a missing or unknown X-API-Key is 401', async (t) => {
  const app = await buildTestApp(t)
  const missing = await app.inject({ method: 'POST', url: URL, payload: {} })
  t.equal(missing.statusCode, 401)
  t.match(missing.json(), { success: false, error: { code: 'UNAUTHORIZED' } })
  const unknown = await app.inject({ method: 'POST', url: URL, headers: { 'x-api-key': 'pk_nope' }, payload: {} })
  t.equal(unknown.statusCode, 401)
  const long = await app.inject({ method: 'POST', url: URL, headers: { 'x-api-key': 'k'.repeat(5000) }, payload: {} })
  t.equal(long.statusCode, 401)
})

t.test("the same userSessionId on two sites is two separate sessions", async (t) => {
  const app = await buildTestApp(t)
  const userSessionId = uniq('visitor-')
  const a = await app.inject(startSessionRequest(await makeSite(app), { userSessionId }))
  const b = await app.inject(startSessionRequest(await makeSite(app), { userSessionId }))
  t.equal(a.statusCode, 201)
  t.equal(b.statusCode, 201)
  t.not(a.json().data.sessionId, b.json().data.sessionId)
})

t.test('two concurrent first requests of one visitor end in one session', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const userSessionId = uniq('visitor-')
  const results = await Promise.all(Array.from({ length: 6 }, (_, i) => app.inject(startSessionRequest(site, { userSessionId, firstMessage: `m${i}` }))))
  t.same(results.map((r) => r.statusCode).sort(), [200, 200, 200, 200, 200, 201])
  t.equal(new Set(results.map((r) => r.json().data.sessionId)).size, 1)
  const last = await app.inject(startSessionRequest(site, { userSessionId }))
  t.same(last.json().data.messages.map((m: { seq: number }) => m.seq), [1, 2, 3, 4, 5, 6])
})
