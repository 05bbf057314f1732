// requires: chromium
import t from 'tap'
import type { Locator } from 'playwright-core'
import { launchBrowser, listeningApp, signInDashboard } from '../helpers/browser.js'
import { bearer, makeSession, makeSite, makeStaff, replyRequest, sendRequest } from '../helpers/fixtures.js'
import { openSocket, widgetUrl } from '../helpers/sockets.js'

const browser = await launchBrowser(t)
const { app, origin } = await listeningApp(t)

// U+202E RIGHT-TO-LEFT OVERRIDE, never closed: unless the name is isolated, it lays out every character after it right to left
const RLO = '\u202e'

/**
 * Whether the first match of `pattern` in the element's text is laid out left to right on screen:
 * its first character stands left of its last one. Measured from the rendered glyphs, not the DOM order.
 */
const readsLeftToRight = (el: Locator, pattern: RegExp) => el.evaluate((root, source) => {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT)
  for (let node = walker.nextNode() as Text | null; node; node = walker.nextNode() as Text | null) {
    const match = new RegExp(source).exec(node.data)
    if (!match) continue
    // (no named helper in here: the page would not know esbuild's __name)
    const [first = 0, last = 0] = [match.index, match.index + match[0].length - 1].map((at) => {
      const range = document.createRange()
      range.setStart(node, at)
      range.setEnd(node, at + 1)
      return range.getBoundingClientRect().left
    })
    return first < last
  }
  throw new Error(`no text matching ${source}`)
}, pattern.source)

t.test('a right-to-left override in a name or a message does not reverse the words the dashboard writes around it', async (t) => {
  const site = await makeSite(app)
  const admin = await makeStaff(app, 'admin', `${RLO}Olena`)
  const s = await makeSession(app, site, { name: `${RLO}Marta` })
  t.equal((await app.inject(sendRequest(s, { text: 'Hello' }))).statusCode, 201)
  const assigned = await app.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/assign`, headers: bearer(admin), payload: { userId: admin.id } })
  t.equal(assigned.statusCode, 200)
  const reply = await app.inject(replyRequest(admin, s.id, `${RLO}Thanks`))
  t.equal(reply.statusCode, 201)
  const note = await app.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/notes`, headers: bearer(admin), payload: { text: 'Checked' } })
  t.equal(note.statusCode, 201)
  const widget = await openSocket(t, widgetUrl(origin.replace('http', 'ws'), s), { headers: { origin: 'https://shop.example' } })

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' })
  t.teardown(() => context.close())
  const dash = await context.newPage()
  await signInDashboard(dash, origin, admin.token, `#/inbox/${s.id}`)
  const log = dash.getByRole('log')
  await log.getByText('Checked').waitFor()

  widget.send({ type: 'typing' })
  const typing = dash.getByRole('status').filter({ hasText: 'typing' })
  await typing.waitFor()
  t.ok(await readsLeftToRight(typing, /is typing/), '"is typing…" after the visitor\'s name')

  t.ok(await readsLeftToRight(dash.locator('.assignee'), /\(you\)/), '"(you)" after the agent\'s name in the header')
  t.ok(await readsLeftToRight(log.locator('.msg.agent .meta'), /\d\d:\d\d/), "the time after the agent's name under a reply")
  t.ok(await readsLeftToRight(log.locator('.msg.note .meta'), /\d\d:\d\d/), "the time after the author's name under a note")
  // (file names need no check here: the server strips bidirectional controls from them)

  widget.send({ type: 'read', seq: reply.json().data.message.seq })
  const row = dash.locator('.sessions .preview').filter({ hasText: 'Seen' })
  await row.waitFor()
  t.ok(await readsLeftToRight(row, /Seen/), '"Seen" after the reply quoted in the list row')
})
