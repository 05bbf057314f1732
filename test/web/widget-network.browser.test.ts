// requires: chromium
import t from 'tap'
import type { WebSocketRoute } from 'playwright-core'
import { expectAccessible } from '../helpers/axe.js'
import { eventually, launchBrowser, listeningApp } from '../helpers/browser.js'
import { bearer, replyRequest } from '../helpers/fixtures.js'
import { focusInPanel, launcher, openChatAndSend, send, sessionWith, widgetSetup } from '../helpers/widget.js'

/** The widget through network faults: socket restarts, lost responses, going offline, refused sends and an unreachable server across a reload. */

// one browser and one app for the file: each test has its own site, agent, page origin and browser context
const browser = await launchBrowser(t)
const { app, origin } = await listeningApp(t)
const setup = widgetSetup(browser, app, origin)

t.test('the widget takes live frames from its socket without polling, and resumes with after=<last seq> after a restart (1012)', async (t) => {
  const { app, pageOrigin, agent, context, page } = await setup(t)
  const sockets: WebSocketRoute[] = []
  // a stand-in for the widget socket, so the resume protocol is checked whatever the server offers
  await context.routeWebSocket(/\/ws/, (ws) => void sockets.push(ws))
  let polls = 0
  page.on('request', (r) => {
    if (r.method() === 'GET' && r.url().includes('/messages')) polls++
  })
  await openChatAndSend(page, pageOrigin, 'Is the socket there?')
  await page.getByText('Is the socket there?').locator('xpath=..').getByText(/\d\d:\d\d/).waitFor()
  const first = await eventually(async () => sockets[0], 'the first socket')
  const url = new URL(first.url())
  const sessionId = await page.evaluate(() => localStorage.getItem('chatSessionId'))
  t.equal(url.pathname, `/api/public/chat/sessions/${sessionId}/ws`)
  t.ok(url.searchParams.get('apiKey') && url.searchParams.get('token'), 'key and token ride in the query')

  const frame = { id: '00000000-0000-4000-8000-000000000002', sessionId, seq: 2, sender: 'agent', senderName: 'Olena', text: 'Straight from the socket', createdAt: new Date().toISOString() }
  first.send(JSON.stringify({ type: 'message', message: frame }))
  first.send(JSON.stringify({ type: 'message', message: frame }))
  await page.getByText('Straight from the socket').waitFor()
  t.equal(await page.getByText('Straight from the socket').count(), 1, 'a repeated frame shows once')

  await first.close({ code: 1012, reason: 'restart' })
  const second = await eventually(async () => sockets[1], 'the reconnect')
  t.equal(new URL(second.url()).searchParams.get('after'), '2', 'resumes after the last seq it holds')
  second.send(JSON.stringify({ type: 'message', message: { ...frame, id: '00000000-0000-4000-8000-000000000004', seq: 4, text: 'fourth' } }))
  second.send(JSON.stringify({ type: 'message', message: { ...frame, id: '00000000-0000-4000-8000-000000000003', seq: 3, text: 'third' } }))
  await page.getByText('third').waitFor()
  const texts = await page.locator('[data-chat-widget] .bubble').allTextContents()
  t.same(texts.slice(-2), ['third', 'fourth'], 'shown in seq order whatever order they arrive in')
  t.equal(polls, 0, 'no polling while the socket is up')
  // closed on the server too: the widget's catch-up after a close reads the status back from it
  await app.inject({ method: 'POST', url: `/api/chat/sessions/${sessionId}/close`, headers: bearer(agent) })
  second.send(JSON.stringify({ type: 'session', session: { id: sessionId, status: 'closed' } }))
  await page.getByRole('button', { name: 'Start a new chat' }).waitFor()
  await expectAccessible(t, page, 'widget, chat closed')
})

t.test('a send whose response is lost is retried and stored and shown once; the contact form reaches the session', async (t) => {
  const { app, pageOrigin, agent, page } = await setup(t)
  let lost = 0
  await page.route(/\/messages$/, async (route) => {
    if (route.request().method() !== 'POST' || lost > 0) return route.fallback()
    lost++
    // the server stores the message, the browser never hears back
    await route.fetch()
    await route.abort('connectionreset')
  })
  await openChatAndSend(page, pageOrigin, 'Sent over a bad network')
  await page.getByText('Sent over a bad network').locator('xpath=..').getByText(/\d\d:\d\d/).waitFor()
  const session = await sessionWith(app, agent, 'Sent over a bad network')
  const history = (await app.inject({ method: 'GET', url: `/api/chat/sessions/${session.id}`, headers: bearer(agent) })).json().data.messages as { text: string }[]
  t.equal(lost, 1, 'the first response was lost')
  t.same(history.map((m) => m.text), ['Sent over a bad network'], 'stored once')
  t.equal(await page.getByText('Sent over a bad network').count(), 1, 'shown once')

  await expectAccessible(t, page, 'widget contact form')
  await page.getByRole('textbox', { name: 'Name' }).fill('Marta')
  await page.getByRole('textbox', { name: 'Phone' }).fill('+380 67 123 4567')
  await page.getByRole('textbox', { name: 'Phone' }).press('Enter')
  await page.getByText('Thanks! We will get back to you.').waitFor()
  t.equal(await focusInPanel(page), 'Thanks! We will get back to you.', 'the focus stays in the panel, on the answer that replaced the form')
  const res = await app.inject({ method: 'GET', url: `/api/chat/sessions/${session.id}`, headers: bearer(agent) })
  t.match(res.json().data.session, { id: session.id, name: 'Marta', phone: '+380 67 123 4567' }, 'the same session got the contact details')
})

t.test('the browser going offline: the widget says it is reconnecting, and once back online sends what was typed meanwhile at once, and everything shows once, in order', async (t) => {
  const { app, pageOrigin, agent, context, page } = await setup(t)
  // the back-off's jitter at its longest, so the wait a send is in is known: after 0.5+1+2+4 s of
  // failed tries it waits 8 s, so at 9 s offline it has more than 6 s to go
  await context.addInitScript(() => void (Math.random = () => 0.999))
  await openChatAndSend(page, pageOrigin, 'Before the tunnel')
  const session = await sessionWith(app, agent, 'Before the tunnel')
  await app.inject(replyRequest(agent, session.id, 'Hello!'))
  await page.getByText('Hello!').waitFor()

  await context.setOffline(true)
  const reconnecting = page.getByRole('status').filter({ hasText: 'Connecting…' })
  await reconnecting.waitFor({ timeout: 3000 })
  t.pass('said in a status region within 3 s, not after the socket times out')
  await expectAccessible(t, page, 'widget offline', { include: '[data-chat-widget]' })
  await send(page, 'Typed in the tunnel')
  await app.inject(replyRequest(agent, session.id, 'Are you there?'))
  await page.waitForTimeout(9000)
  t.equal(await page.locator('[data-chat-widget] .msg.pending').count(), 1, 'the message waits, marked as sending')

  await context.setOffline(false)
  const back = Date.now()
  const stored = await eventually(async () => {
    const res = await app.inject({ method: 'GET', url: `/api/chat/sessions/${session.id}`, headers: bearer(agent) })
    const texts = (res.json().data.messages as { text: string }[]).map((m) => m.text)
    return texts.includes('Typed in the tunnel') ? texts : undefined
  }, 'the message typed offline')
  t.ok(Date.now() - back < 2500, `sent as soon as the network is back (${Date.now() - back} ms), not after the back-off`)
  t.same(stored, ['Before the tunnel', 'Hello!', 'Are you there?', 'Typed in the tunnel'], 'stored once')
  await eventually(async () => ((await page.locator('[data-chat-widget] .msg.pending').count()) === 0 && (await reconnecting.count()) === 0 ? true : undefined), 'the widget to be back')
  t.same(await page.locator('[data-chat-widget] .log .bubble').allTextContents(), ['Hi! How can we help you today?', ...stored], 'shown once each, in the stored order')
})

t.test('a message the server refused is marked "Not sent" with a retry button; retried by keyboard it is stored and shown once, and the focus stays in the panel', async (t) => {
  const { app, pageOrigin, agent, page } = await setup(t)
  let refusing = true
  await page.route(/\/messages$/, (route) => refusing && route.request().method() === 'POST'
    ? route.fulfill({ status: 400, contentType: 'application/json', body: JSON.stringify({ success: false, error: { code: 'VALIDATION_ERROR', message: 'Refused' } }) })
    : route.fallback())
  await openChatAndSend(page, pageOrigin, 'First try')
  const retry = page.getByRole('button', { name: 'Not sent. Tap to retry' })
  await retry.waitFor()
  await expectAccessible(t, page, 'widget, a message not sent', { include: '[data-chat-widget]' })
  refusing = false
  await retry.press('Enter')
  t.equal(await focusInPanel(page), 'Message', 'the focus goes on to the message box, not to the page behind the panel')
  const session = await sessionWith(app, agent, 'First try')
  await page.getByText('First try').locator('xpath=..').getByText(/\d\d:\d\d/).waitFor()
  t.equal(await page.getByText('First try').count(), 1, 'shown once')
  const history = (await app.inject({ method: 'GET', url: `/api/chat/sessions/${session.id}`, headers: bearer(agent) })).json().data.messages as { text: string }[]
  t.same(history.map((m) => m.text), ['First try'], 'stored once')
})

t.test('a message sent while the server cannot be reached survives a reload: shown as sending, sent once the server answers, stored and shown once', async (t) => {
  const { app, pageOrigin, agent, page } = await setup(t)
  await openChatAndSend(page, pageOrigin, 'Before the restart')
  const session = await sessionWith(app, agent, 'Before the restart')
  // the server restarting: its port refuses connections
  let down = true
  await page.route(/\/api\/public\//, (route) => (down ? route.abort('connectionrefused') : route.fallback()))
  await send(page, 'Typed while it restarts')
  await page.locator('[data-chat-widget] .msg.pending').filter({ hasText: 'Typed while it restarts' }).waitFor()

  // an impatient visitor reloads (the page and the widget's script come from elsewhere or the cache)
  await page.reload()
  await launcher(page).click()
  const waiting = page.locator('[data-chat-widget] .msg.pending').filter({ hasText: 'Typed while it restarts' })
  await waiting.waitFor()
  t.match(await waiting.textContent(), /Sending…/, 'still there after the reload, marked as sending')

  down = false
  await eventually(async () => ((await waiting.count()) === 0 ? true : undefined), 'the message to be sent')
  await page.getByText('Typed while it restarts').locator('xpath=..').getByText(/\d\d:\d\d/).waitFor()
  const history = (await app.inject({ method: 'GET', url: `/api/chat/sessions/${session.id}`, headers: bearer(agent) })).json().data.messages as { text: string }[]
  t.same(history.map((m) => m.text), ['Before the restart', 'Typed while it restarts'], 'stored once')
  t.same(await page.locator('[data-chat-widget] .log .bubble').allTextContents(), ['Hi! How can we help you today?', 'Before the restart', 'Typed while it restarts'], 'shown once each, in order')

  // stored already when the page is loaded again: nothing is sent twice
  await page.reload()
  await launcher(page).click()
  await page.getByText('Typed while it restarts').waitFor()
  t.equal(await page.getByText('Typed while it restarts').count(), 1, 'shown once after another reload')
  t.equal((await app.inject({ method: 'GET', url: `/api/chat/sessions/${session.id}`, headers: bearer(agent) })).json().data.messages.length, 2)
})
