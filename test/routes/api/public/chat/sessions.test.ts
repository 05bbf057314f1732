import t from 'tap'
import { closeSession } from '../../../../../src/chat/sessions.js'
import { sharedTestApp } from '../../../../helpers/app.js'
import { makeSession, makeSite, poll, startSessionRequest, type TestSite, uniq } from '../../../../helpers/fixtures.js'
import { call, serve, streamedPostStatus } from '../../../../helpers/http.js'

const URL = '/api/public/chat/sessions'

const start = (base: string, site: TestSite, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  call(base, URL, { headers: { 'x-api-key': site.apiKey, ...headers }, body })

t.test('a new userSessionId creates a session (201) with firstMessage as seq 1 and a token', async (t) => {
  const app = await sharedTestApp()
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

t.test('the same userSessionId with its token resumes the open session (200): contact updated, firstMessage appended, same token', async (t) => {
  const app = await sharedTestApp()
  const base = await serve(app)
  const site = await makeSite(app)
  const userSessionId = uniq('visitor-')
  const first = (await start(base, site, { userSessionId, firstMessage: 'one' })).body.data as { sessionId: string; token: string }
  const proof = { 'x-session-token': first.token }
  const res = await start(base, site, { userSessionId, firstMessage: 'two', name: 'Taras', phone: '067 123', email: 't@example.com' }, proof)
  t.equal(res.status, 200)
  const data = res.body.data as { sessionId: string; token: string; session: Record<string, unknown>; messages: { text: string }[] }
  t.equal(data.sessionId, first.sessionId)
  t.equal(data.token, first.token)
  t.match(data.session, { name: 'Taras', phone: '067 123', lastSeq: 2 })
  t.same(data.messages.map((m) => m.text), ['one', 'two'])
  const again = await start(base, site, { userSessionId }, proof)
  t.equal(again.status, 200, 'resuming without firstMessage appends nothing')
  t.equal((again.body.data as { messages: unknown[] }).messages.length, 2)
  t.equal((again.body.data as { session: { name: string } }).session.name, 'Taras', 'omitted contact fields keep their values')
  const bySecret = await start(base, site, { userSessionId }, { 'x-api-secret': site.apiSecret })
  t.equal(bySecret.status, 200, "the site's secret (a back end) resumes it too")
})

t.test('resuming with the public key alone is 401, and nothing of the session is changed or revealed', async (t) => {
  const app = await sharedTestApp()
  const base = await serve(app)
  const site = await makeSite(app)
  const other = await makeSite(app)
  const victim = await makeSession(app, site, { userSessionId: 'visitor-0001', name: 'Olena', phone: '+380 67 111', firstMessage: 'my secret question' })
  const attempts = [
    await start(base, site, { userSessionId: 'visitor-0001', name: 'Mallory', phone: '000', firstMessage: 'hi, it is me' }),
    await start(base, site, { userSessionId: 'visitor-0001' }, { 'x-session-token': (await makeSession(app, site)).token }),
    await start(base, site, { userSessionId: 'visitor-0001' }, { 'x-session-token': 'st_forged' }),
    await start(base, site, { userSessionId: 'visitor-0001' }, { 'x-api-secret': other.apiSecret }),
  ]
  for (const [i, res] of attempts.entries()) {
    t.equal(res.status, 401, `attempt ${i}`)
    t.equal(res.body.error?.code, 'UNAUTHORIZED', `attempt ${i}`)
    t.notOk(res.body.data, `attempt ${i}: no data`)
    t.notMatch(res.text, /my secret question|Olena|st_|sessionId/, `attempt ${i}: nothing of the session in the body`)
  }
  t.match(attempts[0]?.body.error?.message, /X-Session-Token/, 'the message names the header')
  const history = await poll(app, victim)
  t.same(history.map((m) => m.text), ['my secret question'], 'no message was posted as the victim')
  const [row] = await app.sql`select name, phone from chat_sessions where id = ${victim.id}`
  t.same({ ...row }, { name: 'Olena', phone: '+380 67 111' }, 'contact details unchanged')
  t.equal((await app.sql`select count(*)::int as n from chat_sessions where user_session_id = 'visitor-0001'`)[0]?.n, 1, 'no second session either')
})

t.test('a closed session: its userSessionId without proof is 401; with proof a new session starts (201)', async (t) => {
  const app = await sharedTestApp()
  const base = await serve(app)
  const site = await makeSite(app)
  const s = await makeSession(app, site)
  await closeSession(app.db, app.bus, s.id)
  t.equal((await start(base, site, { userSessionId: s.userSessionId })).status, 401, 'the public key alone')
  const withToken = await start(base, site, { userSessionId: s.userSessionId }, { 'x-session-token': s.token })
  t.equal(withToken.status, 201, "the closed session's token")
  t.not((withToken.body.data as { sessionId: string }).sessionId, s.id)
  const next = withToken.body.data as { sessionId: string; token: string }
  await closeSession(app.db, app.bus, next.sessionId)
  const withSecret = await start(base, site, { userSessionId: s.userSessionId }, { 'x-api-secret': site.apiSecret })
  t.equal(withSecret.status, 201, "the site's secret")
})

t.test('null, absent or empty userSessionId gets a generated one; every call is a new session', async (t) => {
  const app = await sharedTestApp()
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

t.test('invalid fields are 400 VALIDATION_ERROR naming the field', async (t) => {
  const app = await sharedTestApp()
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

t.test('a bad value of a field that may be null is one detail saying what is wrong, not the null branch of the schema', async (t) => {
  const app = await sharedTestApp()
  const site = await makeSite(app)
  for (const [body, field] of [[{ phone: 'call me maybe' }, 'phone'], [{ name: 'n'.repeat(101) }, 'name'], [{ email: 'not-an-email' }, 'email']] as const) {
    const error = (await app.inject(startSessionRequest(site, body))).json().error
    t.equal(error.details.length, 1, field)
    t.equal(error.details[0].field, field)
    t.notMatch(error.message, /must be null|anyOf/, field)
  }
})

t.test('a NUL character in a contact field is a 400 naming the field, as a schema error would', async (t) => {
  const app = await sharedTestApp()
  const site = await makeSite(app)
  for (const field of ['name', 'phone', 'firstMessage']) {
    const res = await app.inject(startSessionRequest(site, { [field]: 'a\u0000b' }))
    t.equal(res.statusCode, 400, field)
    t.match(res.json().error, { code: 'VALIDATION_ERROR', message: new RegExp(`^${field} .*NUL`), details: [{ field, location: 'body' }] }, field)
  }
})

t.test('4000 emoji are one character each and accepted as firstMessage', async (t) => {
  const app = await sharedTestApp()
  const s = await makeSession(app, await makeSite(app), { firstMessage: '😀'.repeat(4000) })
  t.equal((await poll(app, s))[0]?.text, '😀'.repeat(4000))
})

t.test('a body that is not JSON is 415, malformed JSON 400, an oversized body 413', async (t) => {
  const app = await sharedTestApp()
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
  t.equal(await streamedPostStatus(`${await serve(app)}${URL}`, headers, 20_000_000, 'json'), '413', 'a client still sending a huge body reads the 413')
})

t.test('a missing or unknown X-API-Key is 401', async (t) => {
  const app = await sharedTestApp()
  const missing = await app.inject({ method: 'POST', url: URL, payload: {} })
  t.equal(missing.statusCode, 401)
  t.match(missing.json(), { success: false, error: { code: 'UNAUTHORIZED' } })
  const unknown = await app.inject({ method: 'POST', url: URL, headers: { 'x-api-key': 'pk_nope' }, payload: {} })
  t.equal(unknown.statusCode, 401)
  const long = await app.inject({ method: 'POST', url: URL, headers: { 'x-api-key': 'k'.repeat(5000) }, payload: {} })
  t.equal(long.statusCode, 401)
})

t.test("the same userSessionId on two sites is two separate sessions", async (t) => {
  const app = await sharedTestApp()
  const userSessionId = uniq('visitor-')
  const a = await app.inject(startSessionRequest(await makeSite(app), { userSessionId }))
  const b = await app.inject(startSessionRequest(await makeSite(app), { userSessionId }))
  t.equal(a.statusCode, 201)
  t.equal(b.statusCode, 201)
  t.not(a.json().data.sessionId, b.json().data.sessionId)
})

t.test('two concurrent first requests of one visitor end in one session', async (t) => {
  const app = await sharedTestApp()
  const site = await makeSite(app)
  const userSessionId = uniq('visitor-')
  // a back end with the secret: every request may resume, so the losers of the race join the winner
  const withSecret = (i: number) => ({ ...startSessionRequest(site, { userSessionId, firstMessage: `m${i}` }), headers: { 'x-api-key': site.apiKey, 'x-api-secret': site.apiSecret } })
  const results = await Promise.all(Array.from({ length: 6 }, (_, i) => app.inject(withSecret(i))))
  t.same(results.map((r) => r.statusCode).sort(), [200, 200, 200, 200, 200, 201])
  t.equal(new Set(results.map((r) => r.json().data.sessionId)).size, 1)
  const last = await app.inject(withSecret(9))
  t.same(last.json().data.messages.map((m: { seq: number }) => m.seq), [1, 2, 3, 4, 5, 6, 7])
  // with the key alone the losers cannot prove the session is theirs
  const racing = uniq('visitor-')
  const bare = await Promise.all(Array.from({ length: 4 }, () => app.inject(startSessionRequest(site, { userSessionId: racing }))))
  t.same(bare.map((r) => r.statusCode).sort(), [201, 401, 401, 401])
})

t.test('every public route answers a missing or unknown key, and a session route a missing or wrong token, 401 before it looks at the body or query', async (t) => {
  const app = await sharedTestApp()
  const site = await makeSite(app)
  const spec = app.swagger() as unknown as { paths: Record<string, Record<string, unknown>> }
  const id = '00000000-0000-4000-8000-000000000000'
  // the socket and the email's unsubscribe link have credentials of their own (query parameters)
  const routes = Object.entries(spec.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => ({ method: method.toUpperCase(), url: path.replace(/\{[^}]+\}/g, id) })))
    .filter((r) => r.url.startsWith('/api/public/chat/') && !/\/(ws|unsubscribe)$/.test(r.url))
  t.ok(routes.length >= 11, `${routes.length} public routes`)
  const bodies: { payload?: string | object; headers?: Record<string, string> }[] = [{ payload: { unknown: true } }, { payload: '{', headers: { 'content-type': 'application/json' } }, { payload: 'text', headers: { 'content-type': 'text/plain' } }]
  const credentials: [string, Record<string, string>][] = [['no key', {}], ['an unknown key', { 'x-api-key': 'pk_unknown' }]]
  for (const r of routes) {
    const sessionRoute = r.url.includes(`/sessions/${id}/`)
    const creds = sessionRoute ? [...credentials, ['no token', { 'x-api-key': site.apiKey }], ['a wrong token', { 'x-api-key': site.apiKey, 'x-session-token': 'st_wrong' }]] as typeof credentials : credentials
    const url = r.method === 'GET' ? `${r.url}?after=x&limit=0&since=never` : r.url
    for (const body of r.method === 'GET' ? [{}] : bodies) {
      for (const [who, headers] of creds) {
        const res = await app.inject({ method: r.method as 'GET', url, payload: body.payload, headers: { ...body.headers, ...headers } })
        t.equal(res.statusCode, 401, `${r.method} ${r.url} ${JSON.stringify(body.payload ?? '')} with ${who}: ${res.body.slice(0, 120)}`)
      }
    }
  }
})
