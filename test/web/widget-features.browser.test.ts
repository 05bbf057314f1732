// requires: chromium
import t from 'tap'
import { expectAccessible } from '../helpers/axe.js'
import { ARTIFACTS, eventually } from '../helpers/browser.js'
import { pdf, png } from '../helpers/files.js'
import { dashboardUrl, openSocket } from '../helpers/sockets.js'
import { staffUpload } from '../helpers/uploads.js'
import { messageBox } from '../helpers/widget.js'
import { adminSession, openAndSend, reply, WIDGET, widgetFeatures } from '../helpers/widget-features.js'

/**
 * The widget's second-part features during a chat, end to end against the real server: files,
 * typing and "Seen" (after the chat: widget-after-chat.browser.test.ts).
 */
const { setup } = await widgetFeatures(t)

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
