// requires: chromium
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { Browser, BrowserContextOptions, Page, WebSocketRoute } from 'playwright-core'
import { expectAccessible } from '../helpers/axe.js'
import { ARTIFACTS, embedPage, eventually, hostSite, launchBrowser, listeningApp } from '../helpers/browser.js'
import { bearer, makeSite, makeStaff, replyRequest, type Staff } from '../helpers/fixtures.js'

type AdminSession = { id: string; status: string; pageUrl: string | null; lastMessage: { text: string } | null }

// one browser and one app for the file: each test has its own site, agent, page origin and browser context
const browser: Browser = await launchBrowser(t)
const { app, origin } = await listeningApp(t)

/** A customer's page on another origin embedding the widget for a site of its own, an agent, and a fresh browser context. */
async function setup(t: Test, contextOptions: BrowserContextOptions = {}) {
  let html = ''
  const pageOrigin = await hostSite(t, () => html)
  const site = await makeSite(app, [pageOrigin])
  html = embedPage(origin, site.apiKey)
  const agent = await makeStaff(app)
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...contextOptions })
  t.teardown(() => context.close())
  const page = await context.newPage()
  return { app, origin, pageOrigin, agent, context, page }
}

const launcher = (page: Page) => page.getByRole('button', { name: /chat/i }).first()
const messageBox = (page: Page) => page.getByRole('textbox', { name: 'Message' })

async function send(page: Page, text: string) {
  await messageBox(page).fill(text)
  await messageBox(page).press('Enter')
}

/** The visitor opens the site's page and the chat, and writes `text`. */
async function openChatAndSend(page: Page, pageOrigin: string, text: string) {
  await page.goto(pageOrigin)
  await launcher(page).click()
  await send(page, text)
}

/** What has the keyboard focus, if it is inside the open chat panel (a control that went away leaves it on the page's body). */
const focusInPanel = (page: Page) => page.evaluate(() => {
  const focused = document.querySelector('[data-chat-widget]')?.shadowRoot?.activeElement
  return focused?.closest('[role="dialog"]') ? focused.getAttribute('aria-label') ?? focused.textContent : null
})

/** The session whose last message is `text`, as an agent sees it through the admin API. */
function sessionWith(app: FastifyInstance, agent: Staff, text: string): Promise<AdminSession> {
  return eventually(async () => {
    const res = await app.inject({ method: 'GET', url: '/api/chat/sessions', headers: bearer(agent) })
    return (res.json().data.sessions as AdminSession[]).find((s) => s.lastMessage?.text === text)
  }, `a session whose last message is "${text}"`)
}

t.test('a visitor on another site chats with an agent and finds the conversation again after a reload', async (t) => {
  const { app, pageOrigin, agent, page } = await setup(t)
  await page.goto(pageOrigin)
  const box = await launcher(page).boundingBox()
  t.equal(box?.width, 60, "the host page's CSS does not reach the launcher in its shadow root")
  await expectAccessible(t, page, 'widget closed (launcher)')

  await launcher(page).click()
  await send(page, 'Hello from the shop')
  const session = await sessionWith(app, agent, 'Hello from the shop')
  t.equal(session.pageUrl, `${pageOrigin}/`)

  await app.inject(replyRequest(agent, session.id, 'Hi! What can I do for you?'))
  await page.getByText('Hi! What can I do for you?').waitFor({ timeout: 15_000 })
  t.equal(await page.getByText('Hello from the shop').count(), 1, 'the sent message shows once')
  await page.screenshot({ path: `${ARTIFACTS}/widget-conversation.png` })
  await expectAccessible(t, page, 'widget open with a conversation')

  const stored = await page.evaluate(() => [localStorage.getItem('chatSessionId'), localStorage.getItem('chatSessionToken'), localStorage.getItem('chatUserSessionId')])
  t.equal(stored[0], session.id)
  t.ok(stored[1] && stored[2], 'token and userSessionId are kept')

  await page.reload()
  await launcher(page).click()
  await page.getByText('Hi! What can I do for you?').waitFor({ timeout: 15_000 })
  t.equal(await page.getByText('Hello from the shop').count(), 1, 'the history is restored once')
})

t.test('Esc closes the panel and gives focus back to the launcher; Shift+Enter makes a new line', async (t) => {
  const { pageOrigin, page } = await setup(t)
  await page.goto(pageOrigin)
  await launcher(page).focus()
  await page.keyboard.press('Enter')
  await messageBox(page).waitFor()
  await messageBox(page).press('a')
  await messageBox(page).press('Shift+Enter')
  await messageBox(page).press('b')
  t.equal(await messageBox(page).inputValue(), 'a\nb')
  await page.keyboard.press('Escape')
  await messageBox(page).waitFor({ state: 'hidden' })
  const focused = await page.evaluate(() => document.querySelector('[data-chat-widget]')?.shadowRoot?.activeElement?.className)
  t.equal(focused, 'launch')
})

t.test('with WebSockets refused, replies arrive by polling, and nothing polls while the chat is closed', async (t) => {
  const { app, pageOrigin, agent, context, page } = await setup(t)
  let socketAttempts = 0
  await context.routeWebSocket(/\/ws/, (ws) => {
    socketAttempts++
    void ws.close({ code: 1011, reason: 'refused by the test' })
  })
  const polls: number[] = []
  page.on('request', (r) => {
    if (r.method() === 'GET' && r.url().includes('/messages')) polls.push(Date.now())
  })
  await page.goto(pageOrigin)
  await launcher(page).click()
  await page.evaluate(() => {
    const w = window as unknown as { seen: string[]; ChatWidget: { onMessage: (fn: (m: { text: string }) => void) => void } }
    w.seen = []
    w.ChatWidget.onMessage((m) => w.seen.push(m.text))
  })
  await send(page, 'Anyone there?')
  const session = await sessionWith(app, agent, 'Anyone there?')

  await page.keyboard.press('Escape')
  await messageBox(page).waitFor({ state: 'hidden' })
  const pollsWhenClosed = polls.length
  await app.inject(replyRequest(agent, session.id, 'Yes, we are here'))
  // an observation window longer than two polling periods
  await page.waitForTimeout(5000)
  t.equal(polls.length, pollsWhenClosed, 'no polling request while the chat is closed')

  await launcher(page).click()
  await page.getByText('Yes, we are here').waitFor({ timeout: 15_000 })
  t.ok(polls.length > pollsWhenClosed, 'the reply came by polling')
  t.ok(socketAttempts > 0, 'the widget tried the socket first')
  t.same(await page.evaluate(() => (window as unknown as { seen: string[] }).seen), ['Anyone there?', 'Yes, we are here'], 'onMessage sees each message once')
})

t.test('a reply with HTML and script is shown as text and runs nothing', async (t) => {
  const { app, pageOrigin, agent, page } = await setup(t)
  await openChatAndSend(page, pageOrigin, 'Show me your markup')
  const session = await sessionWith(app, agent, 'Show me your markup')
  const evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> see https://example.com/a?b=1'
  await app.inject(replyRequest(agent, session.id, evil))
  await page.getByText('<img src=x onerror=', { exact: false }).waitFor({ timeout: 15_000 })
  const result = await page.evaluate(() => {
    const root = document.querySelector('[data-chat-widget]')?.shadowRoot
    const link = root?.querySelector<HTMLAnchorElement>('.log a')
    return {
      pwned: (window as unknown as { __pwned?: number }).__pwned,
      images: root?.querySelectorAll('img').length,
      scripts: root?.querySelectorAll('script').length,
      link: link && { href: link.href, rel: link.rel, target: link.target },
    }
  })
  t.same(result, { pwned: undefined, images: 0, scripts: 0, link: { href: 'https://example.com/a?b=1', rel: 'noopener noreferrer nofollow ugc', target: '_blank' } })
})

t.test('text keeps its contrast while the panel opens and while a message is still being sent', async (t) => {
  const { context, pageOrigin, page } = await setup(t)
  // sends never answer: the message stays "Sending…"
  await context.route(/\/api\/public\/chat\/sessions\/[^/]+\/messages$/, (route) => (route.request().method() === 'POST' ? undefined : route.continue()))
  await page.goto(pageOrigin)
  await launcher(page).click()
  await page.getByRole('dialog').waitFor()
  const holdAnimations = (at: number | 'end') => page.evaluate((at) => {
    for (const a of document.querySelector('[data-chat-widget]')?.shadowRoot?.getAnimations() ?? []) {
      if (at === 'end') a.finish()
      else { a.pause(); a.currentTime = at }
    }
  }, at)
  await holdAnimations(40)
  await expectAccessible(t, page, 'widget opening (animation held at 40 ms)')
  await holdAnimations('end')
  await send(page, 'Is this on?')
  await page.getByText('Sending…').waitFor()
  await expectAccessible(t, page, 'widget with a message being sent')
})

t.test('on a phone-width screen the open panel fills the screen at once when motion is reduced', async (t) => {
  const { pageOrigin, page } = await setup(t, { viewport: { width: 390, height: 760 }, reducedMotion: 'reduce', isMobile: true, hasTouch: true })
  await page.goto(pageOrigin)
  await launcher(page).click()
  const panel = page.getByRole('dialog')
  await panel.waitFor()
  const box = await panel.boundingBox()
  t.same(box && { w: box.width, h: box.height }, { w: 390, h: 760 })
  t.equal(await messageBox(page).evaluate((el) => getComputedStyle(el).fontSize), '16px', 'no zoom on focus in iOS')
  await page.screenshot({ path: `${ARTIFACTS}/widget-phone.png` })
})

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

t.test('the conversation stays in seq order above the forms and above a file still uploading, whenever they appear', async (t) => {
  const { app, pageOrigin, agent, page } = await setup(t)
  /** the log from top to bottom, after the greeting: a message's text, a file in flight, or a form's class */
  const log = () => page.locator('[data-chat-widget] .log > *').evaluateAll((els) => els.slice(1).map((el) =>
    el.tagName === 'FORM' ? el.className : el.querySelector('progress') ? 'uploading' : el.querySelector('.bubble, .file')?.textContent))
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => (release = resolve))
  await page.route(/\/attachments$/, async (route) => {
    await held
    await route.fallback()
  })
  await page.goto(pageOrigin)
  await launcher(page).click()
  // nobody is online: the email form shows before the visitor writes
  await page.getByRole('textbox', { name: 'Email' }).waitFor()
  const chooser = page.waitForEvent('filechooser')
  await page.getByRole('button', { name: 'Attach a file' }).click()
  await (await chooser).setFiles({ name: 'slow.txt', mimeType: 'text/plain', buffer: Buffer.from('held back') })
  await page.getByRole('progressbar', { name: 'slow.txt' }).waitFor()
  await send(page, 'Sent while a file uploads')
  await page.getByText('Sent while a file uploads').locator('xpath=..').getByText(/\d\d:\d\d/).waitFor()
  const session = await sessionWith(app, agent, 'Sent while a file uploads')
  await app.inject(replyRequest(agent, session.id, 'A reply after it'))
  await page.getByText('A reply after it').waitFor({ timeout: 15_000 })
  t.same(await log(), ['Sent while a file uploads', 'A reply after it', 'uploading', 'contact email', 'contact'], 'confirmed messages first, then the file in flight, then the forms')

  release()
  await page.getByRole('link', { name: /slow\.txt/ }).waitFor()
  t.match(await log(), ['Sent while a file uploads', 'A reply after it', /^slow\.txt/, 'contact email', 'contact'], 'the file takes its place once sent')
})

t.test('a reply that arrives while the chat is closed shows on the launcher badge until the chat is opened', async (t) => {
  const { pageOrigin, context, page } = await setup(t)
  const sockets: WebSocketRoute[] = []
  await context.routeWebSocket(/\/ws/, (ws) => void sockets.push(ws))
  await openChatAndSend(page, pageOrigin, 'Call me back please')
  await page.getByText('Call me back please').locator('xpath=..').getByText(/\d\d:\d\d/).waitFor()
  const socket = await eventually(async () => sockets[0], 'the socket')
  await page.keyboard.press('Escape')
  const sessionId = await page.evaluate(() => localStorage.getItem('chatSessionId'))
  socket.send(JSON.stringify({ type: 'message', message: { id: '00000000-0000-4000-8000-000000000002', sessionId, seq: 2, sender: 'agent', senderName: 'Olena', text: 'Sure, in 5 minutes', createdAt: new Date().toISOString() } }))
  await page.getByRole('button', { name: 'Open chat, 1 unread' }).waitFor()
  await page.screenshot({ path: `${ARTIFACTS}/widget-badge.png` })
  await launcher(page).click()
  await page.getByText('Sure, in 5 minutes').waitFor()
  await page.keyboard.press('Escape')
  await page.getByRole('button', { name: 'Open chat', exact: true }).waitFor()
  t.pass('the badge counts unread replies and clears on open')
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
