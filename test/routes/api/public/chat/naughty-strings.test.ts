import t from 'tap'
import { buildTestApp } from '../../../../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff, poll, replyRequest, sendRequest, startSessionRequest } from '../../../../helpers/fixtures.js'

const NAUGHTY = [
  '😀👩‍👩‍👧‍👦🏳️‍🌈 emoji with joiners and flags',
  'שלום עולם مرحبا بالعالم', // right to left
  '\u202Eevil\u202C reversed', // RTL override
  'zero\u200Bwidth\u200Cnon\u200Djoiner\uFEFF',
  '<script>alert("x")</script><img src=x onerror=alert(1)>',
  "'; drop table chat_messages; --",
  '%s %d {{7*7}} ${7*7} \\u0000 \\n',
  'line one\r\nline two\n\ttabbed',
  'Ω≈ç√∫˜µ≤≥÷ åß∂ƒ©˙∆˚¬… Ṱ̺̺̕o͞ ̷i̲̬͇̪͙n̝̗͕v̟̜̘̦͟o̶̙̰̠kè͚̮̺̪̹̱̤',
  '  leading and trailing spaces  ',
  '汉'.repeat(4000),
  '𝕳'.repeat(4000), // astral plane: 8000 UTF-16 units
]

t.test('naughty strings are stored and returned byte for byte, through every read path', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const agent = await makeStaff(app)
  const s = await makeSession(app, site, { firstMessage: NAUGHTY[0] })
  for (const text of NAUGHTY.slice(1)) {
    const res = await app.inject(sendRequest(s, { text }))
    t.equal(res.statusCode, 201, text.slice(0, 20))
    t.equal(res.json().data.message.text, text)
  }
  t.same((await poll(app, s)).map((m) => m.text), NAUGHTY, 'public polling')
  const detail = await app.inject({ method: 'GET', url: `/api/chat/sessions/${s.id}`, headers: bearer(agent) })
  t.same(detail.json().data.messages.map((m: { text: string }) => m.text), NAUGHTY, 'admin detail')
  t.equal(detail.json().data.session.lastMessage.text, NAUGHTY.at(-1))
  const reply = await app.inject(replyRequest(agent, s.id, NAUGHTY[4] ?? ''))
  t.equal(reply.json().data.message.text, NAUGHTY[4], 'agent text too')
  t.notMatch(detail.body, '&lt;', 'never HTML-escaped')
})

t.test('naughty contact details and search terms are stored verbatim and found', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const agent = await makeStaff(app)
  const name = '<b>Ольга</b> 😀 שלום'
  const res = await app.inject(startSessionRequest(site, { name, firstMessage: '100% _done_ \\ ok' }))
  t.equal(res.json().data.session.name, name)
  for (const term of ['<b>Ольга', '100%', '_done_', '\\ ok']) {
    const list = await app.inject({ method: 'GET', url: `/api/chat/sessions?siteId=${site.id}&search=${encodeURIComponent(term)}`, headers: bearer(agent) })
    t.equal(list.json().data.total, 1, term)
  }
  const underscore = await app.inject({ method: 'GET', url: `/api/chat/sessions?siteId=${site.id}&search=${encodeURIComponent('1_0')}`, headers: bearer(agent) })
  t.equal(underscore.json().data.total, 0, 'LIKE wildcards in the term are literal')
})

// Postgres text cannot hold U+0000. Stripping it would break "stored verbatim", so it is refused.
t.test('a NUL character is a 400 wherever it is sent, never a 500', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const agent = await makeStaff(app)
  const s = await makeSession(app, site)
  const attempts = [
    await app.inject(sendRequest(s, { text: 'a\u0000b' })),
    await app.inject(sendRequest(s, { text: 'ok', clientMessageId: 'c\u0000' })),
    await app.inject(startSessionRequest(site, { name: 'a\u0000' })),
    await app.inject(startSessionRequest(site, { firstMessage: 'hi\u0000' })),
    await app.inject(startSessionRequest(site, { pageUrl: 'https://x.example/\u0000' })),
    await app.inject(replyRequest(agent, s.id, 'x\u0000')),
    await app.inject({ method: 'GET', url: '/api/chat/sessions?search=%00', headers: bearer(agent) }),
    await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'a\u0000@example.com', password: 'whatever1' } }),
  ]
  for (const res of attempts) {
    t.equal(res.statusCode, 400, res.body.slice(0, 120))
    t.equal(res.json().error.code, 'VALIDATION_ERROR')
  }
  t.same(await poll(app, s), [], 'nothing was stored')
})
