// requires: chromium
import t from 'tap'
import type { WebSocketRoute } from 'playwright-core'
import { expectAccessible } from '../helpers/axe.js'
import { ARTIFACTS, embedPage, eventually, hostSite, launchBrowser, listeningApp } from '../helpers/browser.js'
import { makeSite, replyRequest } from '../helpers/fixtures.js'
import { launcher, messageBox, openChatAndSend, send, sessionWith, widgetSetup } from '../helpers/widget.js'

/** The widget as a visitor uses it: chatting, keyboard, rendering, contrast, phone width, polling and the badge (network faults: widget-network.browser.test.ts). */

// one browser and one app for the file: each test has its own site, agent, page origin and browser context
const browser = await launchBrowser(t)
const { app, origin } = await listeningApp(t)
const setup = widgetSetup(browser, app, origin)
type ChatWidgetWindow = { ChatWidget: { open: () => void; close: () => void } }

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

t.test('the tag\'s data-title and data-color show, and window.ChatWidget.open() and .close() drive the panel', async (t) => {
  let html = ''
  const pageOrigin = await hostSite(t, () => html)
  html = embedPage(origin, (await makeSite(app, [pageOrigin])).apiKey, 'data-title="Northwind help" data-color="#b91c1c"')
  const context = await browser.newContext()
  t.teardown(() => context.close())
  const page = await context.newPage()
  await page.goto(pageOrigin)
  t.equal(await launcher(page).evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(185, 28, 28)', 'data-color')
  await page.evaluate(() => (window as unknown as ChatWidgetWindow).ChatWidget.open())
  await page.getByRole('dialog', { name: 'Northwind help' }).waitFor()
  t.equal(await launcher(page).getAttribute('aria-expanded'), 'true', 'open() opens the panel, named by data-title')
  await page.evaluate(() => (window as unknown as ChatWidgetWindow).ChatWidget.close())
  await page.getByRole('dialog').waitFor({ state: 'hidden' })
  t.equal(await launcher(page).getAttribute('aria-expanded'), 'false', 'close() closes it')
})
