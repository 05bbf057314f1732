import t from 'tap'
import { buildTestApp, sharedTestApp } from '../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff, poll, sessionHeaders } from '../helpers/fixtures.js'
import { listen, openSocket, widgetUrl } from '../helpers/sockets.js'

// Bodies as JSON text: inject would re-encode a JS string, and clients send the escape.
const jsonHeaders = { 'content-type': 'application/json' }

t.test('a lone surrogate in any string of a body is a 400 naming the field, wherever the route stores it', async (t) => {
  const app = await sharedTestApp()
  const site = await makeSite(app)
  const admin = await makeStaff(app, 'admin')
  const s = await makeSession(app, site)
  const start = { method: 'POST' as const, url: '/api/public/chat/sessions', headers: { 'x-api-key': site.apiKey, ...jsonHeaders } }
  const staff = { headers: { ...bearer(admin), ...jsonHeaders } }
  for (const [req, field] of [
    [{ ...start, payload: '{"name":"Ann \\ud800"}' }, 'name'],
    [{ ...start, payload: '{"pageUrl":"https://shop.example/\\udfff"}' }, 'pageUrl'],
    [{ ...start, payload: '{"name":"\\udc00\\ud800"}' }, 'name'],
    [{ method: 'POST' as const, url: `/api/chat/sessions/${s.id}/notes`, ...staff, payload: '{"text":"call back \\ud83d"}' }, 'text'],
    [{ method: 'POST' as const, url: '/api/chat/canned', ...staff, payload: '{"shortcut":"hi","text":"Hello \\ude00"}' }, 'text'],
    [{ method: 'PUT' as const, url: `/api/chat/sessions/${s.id}/labels`, ...staff, payload: '{"labels":["vip","\\ud800"]}' }, 'labels.1'],
  ] as const) {
    const res = await app.inject(req)
    t.equal(res.statusCode, 400, `${req.url} ${req.payload}`)
    t.same(res.json(), { success: false, error: { code: 'VALIDATION_ERROR', message: `${field} is not valid Unicode`, details: [{ field, message: `${field} contains a lone surrogate` }] } })
  }
  const canned = await app.inject({ method: 'GET', url: '/api/chat/canned', headers: bearer(admin) })
  t.same(canned.json().data.canned, [], 'nothing stored')
})

t.test('a surrogate pair written as escapes is an emoji, and an escaped backslash before "ud800" is plain text', async (t) => {
  const app = await sharedTestApp()
  const site = await makeSite(app)
  const res = await app.inject({
    method: 'POST', url: '/api/public/chat/sessions', headers: { 'x-api-key': site.apiKey, ...jsonHeaders },
    payload: '{"name":"Ann \\ud83d\\ude00","pageUrl":"https://shop.example/\\\\ud800","firstMessage":"hi \\uD83D\\uDE00"}',
  })
  t.equal(res.statusCode, 201, res.body)
  t.equal(res.json().data.session.name, 'Ann 😀')
  const s = { site, id: res.json().data.sessionId, token: res.json().data.token, userSessionId: '' }
  t.same((await poll(app, s)).map((m) => m.text), ['hi 😀'])
})

t.test('a body nested deep around a lone surrogate is a 400, not a crash', async (t) => {
  const app = await sharedTestApp()
  const s = await makeSession(app, await makeSite(app))
  const depth = 20_000
  const res = await app.inject({ method: 'POST', url: `/api/public/chat/sessions/${s.id}/messages`, headers: { ...sessionHeaders(s), ...jsonHeaders }, payload: `{"text":${'['.repeat(depth)}"\\ud800"${']'.repeat(depth)}}` })
  t.equal(res.statusCode, 400)
  t.equal(res.json().error.code, 'VALIDATION_ERROR')
})

t.test('a socket message frame with a lone surrogate is refused with its clientMessageId, and stores nothing', async (t) => {
  const app = await buildTestApp(t)
  const s = await makeSession(app, await makeSite(app))
  const widget = await openSocket(t, widgetUrl(await listen(app), s))
  await widget.waitUntil('session frame', () => widget.ofType('session').length > 0)
  widget.send('{"type":"message","text":"broken \\ud800","clientMessageId":"c-1"}')
  await widget.waitUntil('the refusal', () => widget.ofType('error').length > 0)
  t.same(widget.ofType('error')[0], {
    type: 'error', clientMessageId: 'c-1',
    error: { code: 'VALIDATION_ERROR', message: 'text is not valid Unicode', details: [{ field: 'text', message: 'text contains a lone surrogate' }] },
  })
  widget.send('{"type":"message","text":"fine \\ud83d\\ude00","clientMessageId":"c-2"}')
  await widget.waitUntil('the stored message', () => widget.ofType('message').length > 0)
  t.same((await poll(app, s)).map((m) => m.text), ['fine 😀'])
})
