/**
 * The client code of the original set-up guide (shared/seed/000_c31fcb627c588351.md),
 * written as the guide writes it: fetch with X-API-Key + X-API-Secret, userSessionId +
 * firstMessage, polling with ?since=<createdAt of the last message> reading
 * `data.success && data.data.messages`, and the contact form through POST /sessions.
 */
import t from 'tap'
import { buildTestApp } from '../../../../helpers/app.js'
import { makeSite, makeStaff, replyRequest, uniq } from '../../../../helpers/fixtures.js'

type SeedMessage = { id: string; seq: number; sender: string; text: string; createdAt: string }

t.test("the seed's widget flow works unchanged over HTTP", async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const agent = await makeStaff(app, 'agent', 'Olena')
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  const API_URL = `${base}/api/public`
  const API_KEY = site.apiKey
  const API_SECRET = site.apiSecret
  const localStorage = new Map<string, string>()
  localStorage.set('chatUserSessionId', uniq('visitor-'))

  // step 3.2: create the session with the first message
  const created = await fetch(`${API_URL}/chat/sessions`, {
    method: 'POST',
    headers: { 'X-API-Key': API_KEY, 'X-API-Secret': API_SECRET, 'Content-Type': 'application/json' },
    body: JSON.stringify({ userSessionId: localStorage.get('chatUserSessionId') ?? null, firstMessage: 'Текст повідомлення' }),
  })
  t.equal(created.status, 201)
  const createdBody = await created.json() as { success: boolean; data: { sessionId: string; userSessionId: string; messages: SeedMessage[] } }
  t.equal(createdBody.success, true)
  const sessionId = createdBody.data.sessionId
  localStorage.set('chatSessionId', sessionId)
  localStorage.set('chatUserSessionId', createdBody.data.userSessionId)
  let messages: SeedMessage[] = createdBody.data.messages
  t.same(messages.map((m) => m.text), ['Текст повідомлення'])

  // a manager answers from the admin panel
  t.equal((await app.inject(replyRequest(agent, sessionId, 'Вітаю! Чим допомогти?'))).statusCode, 201)

  // step 3.3: one polling round, exactly as the guide's interval body
  const pollOnce = async () => {
    const lastMessageTime = messages.at(-1)?.createdAt
    const response = await fetch(
      `${API_URL}/chat/sessions/${sessionId}/messages?since=${lastMessageTime}`,
      { headers: { 'X-API-Key': API_KEY, 'X-API-Secret': API_SECRET } },
    )
    const data = await response.json() as { success: boolean; data: { messages: SeedMessage[] } }
    if (data.success && data.data.messages.length > 0) messages = [...messages, ...data.data.messages]
    return response.status
  }
  t.equal(await pollOnce(), 200)
  t.same(messages.map((m) => [m.sender, m.text]), [['visitor', 'Текст повідомлення'], ['agent', 'Вітаю! Чим допомогти?']])
  t.equal(await pollOnce(), 200)
  t.equal(messages.length, 2, 'a poll with nothing new adds nothing')

  // step 3.4: the contact form, through POST /sessions with name and phone
  const contact = await fetch(`${API_URL}/chat/sessions`, {
    method: 'POST',
    headers: { 'X-API-Key': API_KEY, 'X-API-Secret': API_SECRET, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'Олена', phone: '+380 67 123 45 67', userSessionId: localStorage.get('chatUserSessionId') }),
  })
  t.equal(contact.status, 200)
  const contactBody = await contact.json() as { success: boolean; data: { sessionId: string; session: { name: string; phone: string } } }
  t.equal(contactBody.data.sessionId, sessionId, 'the same conversation')
  t.match(contactBody.data.session, { name: 'Олена', phone: '+380 67 123 45 67' })

  // the manager sees the contact details in the panel
  const detail = await app.inject({ method: 'GET', url: `/api/chat/sessions/${sessionId}`, headers: { authorization: `Bearer ${agent.token}` } })
  t.match(detail.json().data.session, { name: 'Олена', phone: '+380 67 123 45 67' })

  // on reload, the stored userSessionId restores the conversation
  const restored = await fetch(`${API_URL}/chat/sessions`, {
    method: 'POST',
    headers: { 'X-API-Key': API_KEY, 'X-API-Secret': API_SECRET, 'Content-Type': 'application/json' },
    body: JSON.stringify({ userSessionId: localStorage.get('chatUserSessionId') }),
  })
  const restoredBody = await restored.json() as { data: { sessionId: string; messages: SeedMessage[] } }
  t.equal(restoredBody.data.sessionId, sessionId)
  t.same(restoredBody.data.messages.map((m) => m.text), ['Текст повідомлення', 'Вітаю! Чим допомогти?'])
})

t.test('a first visit sends userSessionId null (localStorage.getItem of nothing) and gets one generated', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const res = await app.inject({
    method: 'POST',
    url: '/api/public/chat/sessions',
    headers: { 'X-API-Key': site.apiKey, 'X-API-Secret': site.apiSecret, 'Content-Type': 'application/json' },
    payload: JSON.stringify({ userSessionId: null, firstMessage: 'hi' }),
  })
  t.equal(res.statusCode, 201)
  t.match(res.json().data.userSessionId, /^[A-Za-z0-9_-]{8,}$/)
})

t.test('polling before the widget holds any message (since=undefined, null or 0, as the guide interpolates it) reads the whole history', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const agent = await makeStaff(app, 'agent', 'Olena')
  const headers = { 'X-API-Key': site.apiKey, 'X-API-Secret': site.apiSecret, 'Content-Type': 'application/json' }
  // the contact form first: the session starts with no messages, so lastMessageTime is not set yet
  const created = await app.inject({ method: 'POST', url: '/api/public/chat/sessions', headers, payload: JSON.stringify({ name: 'Олена', phone: '+380 67 123 45 67', userSessionId: null }) })
  t.equal(created.statusCode, 201)
  const { sessionId, messages } = created.json().data as { sessionId: string; messages: SeedMessage[] }
  t.same(messages, [])
  t.equal((await app.inject(replyRequest(agent, sessionId, 'Вітаю!'))).statusCode, 201)
  for (const lastMessageTime of [messages.at(-1)?.createdAt, null, 0]) {
    const res = await app.inject({ method: 'GET', url: `/api/public/chat/sessions/${sessionId}/messages?since=${lastMessageTime}`, headers })
    t.equal(res.statusCode, 200, `since=${lastMessageTime}`)
    t.same(res.json().data?.messages?.map((m: SeedMessage) => m.text), ['Вітаю!'], `since=${lastMessageTime}`)
  }
})
