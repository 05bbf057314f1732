// requires: chromium
import t from 'tap'
import type { Route } from 'playwright-core'
import { expectAccessible } from '../helpers/axe.js'
import { ARTIFACTS, eventually, launchBrowser, listeningApp, signInDashboard } from '../helpers/browser.js'
import * as files from '../helpers/files.js'
import { makeSession, makeSite, makeStaff, poll, sendRequest, sessionHeaders } from '../helpers/fixtures.js'
import { openSocket, widgetUrl } from '../helpers/sockets.js'
import { pathOf, visitorUpload, type WireAttachment } from '../helpers/uploads.js'

type WithFiles = { sender: string; seq: number; text: string; attachments: WireAttachment[] }

t.test("an agent sees the visitor's image and typing, replies with a PDF and a pasted image, is typing for the visitor, and sees Seen", async (t) => {
  const browser = await launchBrowser(t)
  const { app, origin } = await listeningApp(t)
  const site = await makeSite(app)
  const agent = await makeStaff(app, 'agent', 'Olena')
  const s = await makeSession(app, site, { name: 'Marta' })
  const screenshot = files.png(40, 30, [220, 38, 38])
  const image = await visitorUpload(app, s, screenshot, 'screen.png')
  t.equal((await app.inject(sendRequest(s, { text: 'The button is broken', attachments: [image.id] }))).statusCode, 201)
  const widget = await openSocket(t, widgetUrl(origin.replace('http', 'ws'), s), { headers: { origin: 'https://shop.example' } })

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  t.teardown(() => context.close())
  const dash = await context.newPage()
  await signInDashboard(dash, origin, agent.token, `#/inbox/${s.id}`)

  const preview = dash.getByRole('img', { name: 'screen.png' })
  await preview.waitFor()
  t.ok(await preview.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth === 40), 'the image preview loads from its signed URL')

  // the visitor types: the indicator appears, and goes when her message arrives
  widget.send({ type: 'typing' })
  const typing = dash.getByRole('status').filter({ hasText: 'typing' })
  await typing.waitFor()
  t.match(await typing.textContent(), /Marta is typing/)
  await app.inject(sendRequest(s, { text: 'Any news?' }))
  await dash.getByRole('log').getByText('Any news?').waitFor()
  await eventually(async () => ((await typing.count()) === 0 ? true : undefined), 'the indicator to go')

  // the agent types: the visitor's socket hears it with her name
  const reply = dash.getByRole('textbox', { name: 'Reply' })
  await reply.pressSequentially('Look at')
  await widget.waitUntil('agent typing', () => widget.frames.some((f) => f.type === 'typing' && f.sender === 'agent' && f.name === 'Olena'))

  // a PDF through the attach button, an image pasted into the reply box
  const chooser = dash.waitForEvent('filechooser')
  await dash.getByRole('button', { name: 'Attach a file' }).click()
  const manual = files.pdf('Manual')
  await (await chooser).setFiles({ name: 'manual.pdf', mimeType: 'application/pdf', buffer: manual })
  const pasted = files.png(8, 8)
  await reply.evaluate((el, bytes) => {
    const transfer = new DataTransfer()
    transfer.items.add(new File([new Uint8Array(bytes)], 'pasted.png', { type: 'image/png' }))
    el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }))
  }, [...pasted])
  await dash.getByRole('button', { name: 'Remove manual.pdf' }).waitFor()
  await dash.getByRole('button', { name: 'Remove pasted.png' }).waitFor()
  // a file dropped on the conversation joins them; removed again, it is not sent
  await dash.getByRole('region', { name: 'Conversation' }).evaluate((el, bytes) => {
    const transfer = new DataTransfer()
    transfer.items.add(new File([new Uint8Array(bytes)], 'notes.txt', { type: 'text/plain' }))
    el.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }))
  }, [...Buffer.from('order 1042\n')])
  await dash.getByRole('button', { name: 'Remove notes.txt' }).click()
  await eventually(async () => ((await dash.getByText(/^notes\.txt/).count()) === 0 ? true : undefined), 'the dropped file to be removed')
  await expectAccessible(t, dash, 'dashboard conversation with files to send')
  await reply.press('Enter')

  const sent = await eventually(async () => (await poll(app, s) as unknown as WithFiles[]).find((m) => m.sender === 'agent'), 'the reply with files')
  t.equal(sent.text, 'Look at')
  t.same(sent.attachments.map((a) => [a.name, a.contentType]), [['manual.pdf', 'application/pdf'], ['pasted.png', 'image/png']])
  const download = await app.inject({ method: 'GET', url: pathOf(sent.attachments[0]?.url ?? '') })
  t.ok(download.rawPayload.equals(manual), 'the visitor downloads the PDF the agent attached')
  await dash.getByRole('link', { name: /manual\.pdf \(/ }).waitFor()
  t.equal(await dash.getByRole('button', { name: /^Remove / }).count(), 0, 'the sent files leave the reply box')

  // "Seen" under the agent's reply once the visitor has read it
  const seen = dash.locator('.msg.agent .meta', { hasText: 'Seen' })
  t.equal(await seen.count(), 0, 'not seen yet')
  await app.inject({ method: 'POST', url: `/api/public/chat/sessions/${s.id}/read`, headers: sessionHeaders(s), payload: { seq: sent.seq } })
  await seen.waitFor()
  await dash.getByRole('link', { name: /You: Look at · Seen/ }).waitFor()
  await dash.screenshot({ path: `${ARTIFACTS}/dashboard-files-seen.png` })
  await expectAccessible(t, dash, 'dashboard conversation with files and Seen')
})

t.test('a catch-up in flight when the agent signs out, failing after, leaves nothing asking the API', async (t) => {
  const browser = await launchBrowser(t)
  const { app, origin } = await listeningApp(t)
  const site = await makeSite(app)
  const agent = await makeStaff(app, 'agent', 'Olena')
  const s = await makeSession(app, site, { name: 'Marta', firstMessage: 'hello' })
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } })
  t.teardown(() => context.close())
  const dash = await context.newPage()
  await signInDashboard(dash, origin, agent.token, `#/inbox/${s.id}`)
  await dash.getByRole('heading', { name: 'Marta' }).waitFor()
  const banner = dash.getByRole('status').filter({ hasText: 'Live updates are offline' })
  await eventually(async () => ((await banner.count()) === 0 ? true : undefined), 'the socket up')

  // the REST catch-up a resync asks for is held until the agent has signed out, then fails
  const held: Route[] = []
  let askedAfterSignOut = 0
  let signedOut = false
  await dash.route(/\/api\/chat\/sessions(\/|\?|$)/, (route) => {
    if (signedOut) askedAfterSignOut++
    held.push(route)
  })
  app.hub.resync()
  await eventually(async () => held.length > 0 || undefined, 'the catch-up asked')
  await dash.getByRole('button', { name: 'Sign out' }).click()
  await dash.getByRole('button', { name: 'Sign in' }).waitFor()
  signedOut = true
  for (const route of held.splice(0)) await route.fulfill({ status: 502, contentType: 'text/plain', body: 'Bad Gateway' })
  // a retry timer left running would ask every 5 s
  await new Promise((r) => setTimeout(r, 6000))
  t.equal(askedAfterSignOut, 0, 'no request for chats after signing out')
})
