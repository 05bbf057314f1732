// requires: chromium
import t, { type Test } from 'tap'
import type { Browser, BrowserContext } from 'playwright-core'
import { expectAccessible } from '../helpers/axe.js'
import { ARTIFACTS, embedPage, eventually, hostSite, launchBrowser, listeningApp } from '../helpers/browser.js'
import { pdf, png } from '../helpers/files.js'
import { bearer, makeSite, makeStaff, type Staff } from '../helpers/fixtures.js'
import { dashboardUrl, openSocket } from '../helpers/sockets.js'
import { staffUpload } from '../helpers/uploads.js'
import { focusInPanel, launcher, messageBox } from '../helpers/widget.js'

/**
 * The widget's second-part features, end to end against the real server: files, typing,
 * "Seen", availability with the Email box, rating and transcript after close, in English
 * (the names tests and screen readers use) and in Ukrainian and Russian.
 */

// one browser, one server, one host page and one agent for the file; each test gets a new site and a new browser context
const browser: Browser = await launchBrowser(t)
// email is on (the transcript route answers 202 once it is queued); nothing listens there, which this file does not need
const { app, origin } = await listeningApp(t, { SMTP_URL: 'smtp://127.0.0.1:9', EMAIL_FROM: 'chat@shop.example' })
let html = ''
const pageOrigin = await hostSite(t, () => html)
const agent = await makeStaff(app, 'agent', 'Olena')

const WIDGET = { include: '[data-chat-widget]' }

async function setup(t: Test, locale = 'en', beforeLoad?: (context: BrowserContext) => Promise<void>) {
  const site = await makeSite(app, [pageOrigin])
  html = embedPage(origin, site.apiKey).replace('data-locale="en"', `data-locale="${locale}"`)
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true })
  t.teardown(() => context.close())
  await beforeLoad?.(context)
  const page = await context.newPage()
  await page.goto(pageOrigin)
  return { app, origin, pageOrigin, site, agent, context, page }
}

type Setup = Awaited<ReturnType<typeof setup>>

async function openAndSend(s: Setup, text: string): Promise<string> {
  await launcher(s.page).click()
  await messageBox(s.page).fill(text)
  await messageBox(s.page).press('Enter')
  await s.page.getByText(text).locator('xpath=..').getByText(/\d\d:\d\d/).waitFor()
  return eventually(async () => (await s.page.evaluate(() => localStorage.getItem('chatSessionId'))) ?? undefined, 'the session id')
}

const reply = (s: Setup, sessionId: string, body: Record<string, unknown>, staff: Staff = s.agent) =>
  s.app.inject({ method: 'POST', url: `/api/chat/sessions/${sessionId}/messages`, headers: bearer(staff), payload: body })

const availability = async (s: Setup): Promise<{ online?: boolean }> =>
  (await s.app.inject({ method: 'GET', url: '/api/public/chat/availability', headers: { 'x-api-key': s.site.apiKey } })).json().data ?? {}

const adminSession = async (s: Setup, sessionId: string) =>
  (await s.app.inject({ method: 'GET', url: `/api/chat/sessions/${sessionId}`, headers: bearer(s.agent) })).json().data

t.test('a visitor pastes an image; the agent gets it and replies with a PDF, which the visitor downloads', async (t) => {
  const s = await setup(t)
  const sessionId = await openAndSend(s, 'Here is a photo of the damage')
  await messageBox(s.page).focus()
  await s.page.evaluate((bytes) => {
    const root = document.querySelector('[data-chat-widget]')?.shadowRoot
    const box = root?.querySelector('textarea')
    const data = new DataTransfer()
    data.items.add(new File([new Uint8Array(bytes)], 'damage.png', { type: 'image/png' }))
    box?.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }))
  }, [...png(1, 1)])
  const preview = s.page.getByRole('img', { name: 'damage.png' })
  await preview.waitFor()
  t.ok(await preview.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth === 1), 'the preview shows the image itself')

  const history = (await adminSession(s, sessionId)).messages as { attachments: { name: string; contentType: string }[] }[]
  t.match(history.at(-1)?.attachments, [{ name: 'damage.png', contentType: 'image/png' }], 'the agent gets the image')

  const invoice = await staffUpload(s.app, s.agent, sessionId, pdf(), 'invoice.pdf')
  await reply(s, sessionId, { text: 'Here is the invoice', attachments: [invoice.id] })
  const link = s.page.getByRole('link', { name: /invoice\.pdf/ })
  await link.waitFor()
  t.match(await link.textContent(), /invoice\.pdf.*(B|KB)/, 'a link with name and size')
  await expectAccessible(t, s.page, 'widget with an image and a file', WIDGET)
  await s.page.screenshot({ path: `${ARTIFACTS}/widget-files.png` })
  const [download] = await Promise.all([s.page.waitForEvent('download'), link.click()])
  t.equal(download.suggestedFilename(), 'invoice.pdf')
  const path = await download.path()
  const { readFileSync } = await import('node:fs')
  t.same(readFileSync(path), pdf(), 'the visitor gets the PDF byte for byte')
})

t.test('"Attach a file" uploads with a progress bar and sends; dropping a file works too; an upload can be cancelled', async (t) => {
  const s = await setup(t)
  const sessionId = await openAndSend(s, 'Two files coming')
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => (release = resolve))
  let uploads = 0
  await s.page.route(/\/attachments$/, async (route) => {
    // the first upload waits, so the test sees it in flight and cancels it
    if (uploads++ === 0) await held
    await route.fallback()
  })
  const chooser = s.page.waitForEvent('filechooser')
  await s.page.getByRole('button', { name: 'Attach a file' }).click()
  await (await chooser).setFiles({ name: 'slow.txt', mimeType: 'text/plain', buffer: Buffer.from('never sent') })
  const progress = s.page.getByRole('progressbar', { name: 'slow.txt' })
  await progress.waitFor()
  await expectAccessible(t, s.page, 'widget uploading a file', WIDGET)
  await s.page.getByRole('button', { name: 'Cancel upload' }).click()
  await progress.waitFor({ state: 'detached' })
  release()

  const chooser2 = s.page.waitForEvent('filechooser')
  await s.page.getByRole('button', { name: 'Attach a file' }).click()
  await (await chooser2).setFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('the order number is 1042\n') })
  await s.page.getByRole('link', { name: /notes\.txt/ }).waitFor()

  await s.page.evaluate(() => {
    const panel = document.querySelector('[data-chat-widget]')?.shadowRoot?.querySelector('.panel')
    const data = new DataTransfer()
    data.items.add(new File(['dropped text\n'], 'dropped.txt', { type: 'text/plain' }))
    panel?.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }))
    panel?.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }))
  })
  await s.page.getByRole('link', { name: /dropped\.txt/ }).waitFor()
  const names = ((await adminSession(s, sessionId)).messages as { attachments: { name: string }[] }[]).flatMap((m) => m.attachments.map((a) => a.name))
  t.same(names, ['notes.txt', 'dropped.txt'], 'the cancelled file never became a message')
})

t.test('typing indicators appear while the agent types and vanish when they stop; the visitor\'s typing reaches the agent at most once per 2 s', async (t) => {
  const s = await setup(t)
  const sessionId = await openAndSend(s, 'Hello?')
  const base = s.origin.replace(/^http/, 'ws')
  const dashboard = await openSocket(t, dashboardUrl(base, s.agent))
  dashboard.send({ type: 'typing', sessionId })
  const status = s.page.getByRole('status').filter({ hasText: 'typing' })
  await status.waitFor()
  t.match(await status.textContent(), /Olena is typing/)
  await expectAccessible(t, s.page, 'widget while the agent types', WIDGET)
  await status.waitFor({ state: 'detached', timeout: 10_000 }).catch(() => status.waitFor({ state: 'hidden' }))
  t.equal(await s.page.getByText('is typing').count(), 0, 'gone once the agent stops')

  const started = Date.now()
  await messageBox(s.page).pressSequentially('I am writing a long question', { delay: 150 })
  const elapsed = Date.now() - started
  await eventually(async () => dashboard.ofType('typing').length > 0 || undefined, 'a typing frame at the dashboard')
  const frames = dashboard.ofType('typing').length
  t.ok(frames <= Math.ceil(elapsed / 2000) + 1, `${frames} typing frames over ${elapsed} ms of typing`)
  t.match(dashboard.ofType('typing')[0], { sessionId, sender: 'visitor' })
})

t.test('"Seen" appears under the visitor\'s last message once the agent opens the conversation in the dashboard', async (t) => {
  const s = await setup(t)
  await openAndSend(s, 'First question')
  await messageBox(s.page).fill('Second question')
  await messageBox(s.page).press('Enter')
  await s.page.getByText('Second question').locator('xpath=..').getByText(/\d\d:\d\d/).waitFor()
  t.equal(await s.page.getByText('Seen', { exact: true }).count(), 0, 'not before the agent has looked')

  const dash = await s.context.newPage()
  await dash.goto(`${s.origin}/admin`)
  await dash.getByLabel('Email').fill(s.agent.email)
  await dash.getByLabel('Password').fill(s.agent.password)
  await dash.getByRole('button', { name: 'Sign in' }).click()
  await dash.getByRole('link', { name: /Second question/ }).click()
  await dash.getByRole('textbox', { name: 'Reply' }).waitFor()

  const seen = s.page.getByText('Seen', { exact: true })
  await seen.waitFor()
  t.equal(await seen.count(), 1, 'once')
  t.ok(await seen.evaluate((el) => el.parentElement?.textContent?.includes('Second question')), 'under the last message')
  await expectAccessible(t, s.page, 'widget with Seen', WIDGET)
})

t.test('a visitor rates a closed chat: "Rate this chat" with 1–5 stars, a comment, and "Send rating"', async (t) => {
  const s = await setup(t)
  const sessionId = await openAndSend(s, 'Thanks for the help')
  await s.app.inject({ method: 'POST', url: `/api/chat/sessions/${sessionId}/close`, headers: bearer(s.agent) })
  const group = s.page.getByRole('group', { name: 'Rate this chat' })
  await group.waitFor()
  for (let n = 1; n <= 5; n++) await group.getByRole('button', { name: n === 1 ? '1 star' : `${n} stars`, exact: true }).waitFor()
  await expectAccessible(t, s.page, 'widget, rating a closed chat', WIDGET)
  await s.page.screenshot({ path: `${ARTIFACTS}/widget-rating.png` })
  await group.getByRole('button', { name: '4 stars' }).click()
  t.equal(await group.getByRole('button', { name: '4 stars' }).getAttribute('aria-pressed'), 'true')
  await group.getByRole('textbox', { name: 'Comment' }).fill('Quick and kind')
  await group.getByRole('button', { name: 'Send rating' }).press('Enter')
  await s.page.getByText('Thank you for your rating!').waitFor()
  t.equal(await focusInPanel(s.page), 'Thank you for your rating!', 'the focus stays in the panel, on the thanks that replaced the form')
  await expectAccessible(t, s.page, 'widget, rating sent', WIDGET)
  t.match((await adminSession(s, sessionId)).session.rating, { score: 4, comment: 'Quick and kind' }, 'the rating reaches the session')
})

t.test('an agent replies and closes at once: the visitor sees the reply though the closed status overtook it', async (t) => {
  const replyText = 'Sorted, closing now'
  let lostFrames = 0
  // the widget's socket runs through the test, which loses the reply's frame: all the widget
  // hears is `closed`, as when the status frame overtakes the last message
  const s = await setup(t, 'en', (context) => context.routeWebSocket(/\/ws/, (ws) => {
    const server = ws.connectToServer()
    server.onMessage((data) => {
      if ((JSON.parse(String(data)) as { message?: { text?: string } }).message?.text === replyText) lostFrames++
      else ws.send(data)
    })
  }))
  const sessionId = await openAndSend(s, 'Is my order sorted?')
  const fetches: string[] = []
  s.page.on('request', (r) => {
    if (r.method() === 'GET' && r.url().includes('/messages?after=')) fetches.push(r.url())
  })
  await reply(s, sessionId, { text: replyText })
  await s.app.inject({ method: 'POST', url: `/api/chat/sessions/${sessionId}/close`, headers: bearer(s.agent) })
  await s.page.getByText(replyText).waitFor()
  t.equal(lostFrames, 1, 'the reply never came on the socket')
  t.match(fetches, [/after=1&/], 'fetched once after the last seq it held')
  t.equal(await s.page.getByText(replyText).count(), 1, 'shown once')
  await expectAccessible(t, s.page, 'widget, closed after a raced reply', WIDGET)
})

t.test('with nobody online the widget says it replies by email and asks for one; the email lets the visitor get the transcript after close', async (t) => {
  const s = await setup(t)
  // the agent's dashboard of an earlier test may still count as online for up to 2 s after it closed
  await eventually(async () => (await availability(s)).online === false || undefined, 'nobody online')
  await launcher(s.page).click()
  await s.page.getByText('We reply by email').waitFor()
  const email = s.page.getByRole('textbox', { name: 'Email' })
  await email.waitFor()
  await expectAccessible(t, s.page, 'widget, nobody online', WIDGET)
  await email.fill('marta@example.com')
  await s.page.getByRole('button', { name: 'Save email' }).click()
  await s.page.getByText('Thanks! We will reply by email.').waitFor()
  await messageBox(s.page).fill('Please write me back')
  await messageBox(s.page).press('Enter')
  const sessionId = await eventually(async () => (await s.page.evaluate(() => localStorage.getItem('chatSessionId'))) ?? undefined, 'the session')
  t.equal((await adminSession(s, sessionId)).session.email, 'marta@example.com')

  await s.app.inject({ method: 'POST', url: `/api/chat/sessions/${sessionId}/close`, headers: bearer(s.agent) })
  const transcript = s.page.getByRole('button', { name: 'Email me this conversation' })
  await transcript.press('Enter')
  await s.page.getByText('We have emailed you the conversation.').waitFor()
  t.equal(await focusInPanel(s.page), 'We have emailed you the conversation.', 'the focus stays in the panel, on the answer that replaced the button')
})

t.test('when the rating or the transcript is not sent, the widget says so and the visitor can try again', async (t) => {
  let failing = true
  const s = await setup(t, 'en', async (context) => {
    await context.route(/\/api\/public\/chat\/sessions\/[^/]+\/(rating|transcript)$/, (route) => failing
      ? route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ success: false, error: { code: 'SERVICE_UNAVAILABLE', message: 'Try later' } }) })
      : route.continue())
  })
  await eventually(async () => (await availability(s)).online === false || undefined, 'nobody online')
  await launcher(s.page).click()
  await s.page.getByRole('textbox', { name: 'Email' }).fill('ivan@example.com')
  await s.page.getByRole('button', { name: 'Save email' }).click()
  await s.page.getByText('Thanks! We will reply by email.').waitFor()
  await messageBox(s.page).fill('Call me back')
  await messageBox(s.page).press('Enter')
  const sessionId = await eventually(async () => (await s.page.evaluate(() => localStorage.getItem('chatSessionId'))) ?? undefined, 'the session')
  await s.app.inject({ method: 'POST', url: `/api/chat/sessions/${sessionId}/close`, headers: bearer(s.agent) })
  const group = s.page.getByRole('group', { name: 'Rate this chat' })
  await group.getByRole('button', { name: '5 stars' }).click()
  await group.getByRole('button', { name: 'Send rating' }).click()
  await group.getByRole('alert').filter({ hasText: 'The rating was not sent. Please try again.' }).waitFor()
  await s.page.getByRole('button', { name: 'Email me this conversation' }).click()
  await s.page.getByRole('alert').filter({ hasText: 'The conversation was not emailed. Please try again.' }).waitFor()
  await expectAccessible(t, s.page, 'widget, rating and transcript not sent', WIDGET)

  failing = false
  await group.getByRole('button', { name: 'Send rating' }).click()
  await s.page.getByText('Thank you for your rating!').waitFor()
  await s.page.getByRole('button', { name: 'Email me this conversation' }).click()
  await s.page.getByText('We have emailed you the conversation.').waitFor()
  t.equal(await s.page.getByRole('alert').filter({ hasText: /not (sent|emailed)/ }).count(), 0, 'the errors are gone once it worked')
})

t.test('when the email or the name and phone are not saved (the network down), the widget says so and the visitor can try again', async (t) => {
  let failing = true
  const s = await setup(t, 'en', async (context) => {
    // contact details travel with POST /sessions; the conversation itself is not touched
    await context.route(/\/api\/public\/chat\/sessions$/, (route) => failing && /"(email|phone)"/.test(route.request().postData() ?? '') ? route.abort('internetdisconnected') : route.continue())
  })
  await eventually(async () => (await availability(s)).online === false || undefined, 'nobody online')
  await launcher(s.page).click()
  await s.page.getByRole('textbox', { name: 'Email' }).fill('ivan@example.com')
  await s.page.getByRole('button', { name: 'Save email' }).click()
  await s.page.getByRole('alert').filter({ hasText: 'Not saved. Please try again.' }).waitFor()
  await expectAccessible(t, s.page, 'widget, email not saved', WIDGET)
  failing = false
  await s.page.getByRole('button', { name: 'Save email' }).click()
  await s.page.getByText('Thanks! We will reply by email.').waitFor()
  t.equal(await s.page.getByRole('alert').filter({ hasText: 'Not saved' }).count(), 0, 'the error is gone once it worked')

  await messageBox(s.page).fill('Call me back')
  await messageBox(s.page).press('Enter')
  failing = true
  await s.page.getByRole('textbox', { name: 'Name' }).fill('Ivan')
  await s.page.getByRole('textbox', { name: 'Phone' }).fill('+380 67 123 4567')
  await s.page.getByRole('button', { name: 'Save contact' }).click()
  await s.page.getByRole('alert').filter({ hasText: 'Not saved. Please try again.' }).waitFor()
  failing = false
  await s.page.getByRole('button', { name: 'Save contact' }).click()
  await s.page.getByText('Thanks! We will get back to you.').waitFor()
  const sessionId = await eventually(async () => (await s.page.evaluate(() => localStorage.getItem('chatSessionId'))) ?? undefined, 'the session')
  t.match((await adminSession(s, sessionId)).session, { email: 'ivan@example.com', name: 'Ivan', phone: '+380 67 123 4567' })
})

t.test('with an agent online the widget says "Online" and asks for no email', async (t) => {
  const s = await setup(t)
  await openSocket(t, dashboardUrl(s.origin.replace(/^http/, 'ws'), s.agent))
  await eventually(async () => (await availability(s)).online === true || undefined, 'the agent to count as online')
  await launcher(s.page).click()
  await s.page.getByText('Online', { exact: true }).waitFor()
  t.equal(await s.page.getByRole('textbox', { name: 'Email' }).count(), 0)
})

t.test('every new control exists in Ukrainian and Russian', async (t) => {
  for (const [locale, attach, rate] of [['uk', 'Прикріпити файл', 'Оцініть цей чат'], ['ru', 'Прикрепить файл', 'Оцените этот чат']] as const) {
    const s = await setup(t, locale)
    // an agent online: the widget asks for no email first, so its first text box is the message
    await openSocket(t, dashboardUrl(s.origin.replace(/^http/, 'ws'), s.agent))
    await eventually(async () => (await availability(s)).online === true || undefined, 'the agent to count as online')
    await launcher(s.page).click()
    await s.page.getByRole('button', { name: attach }).waitFor()
    await s.page.getByRole('textbox').first().fill(locale === 'uk' ? 'Привіт' : 'Привет')
    await s.page.getByRole('textbox').first().press('Enter')
    const sessionId = await eventually(async () => (await s.page.evaluate(() => localStorage.getItem('chatSessionId'))) ?? undefined, 'the session')
    await s.app.inject({ method: 'POST', url: `/api/chat/sessions/${sessionId}/close`, headers: bearer(s.agent) })
    await s.page.getByRole('group', { name: rate }).waitFor()
    await expectAccessible(t, s.page, `widget in ${locale}, closed`, WIDGET)
  }
})
