// requires: chromium
import t from 'tap'
import type { Locator, Page } from 'playwright-core'
import { expectAccessible } from '../helpers/axe.js'
import { ARTIFACTS, eventually, launchBrowser, listeningApp } from '../helpers/browser.js'
import { bearer } from '../helpers/fixtures.js'
import { launcher, send, widgetSetup } from '../helpers/widget.js'

/**
 * The widget at 200 % zoom (WCAG 1.4.4): a 1280×800 window zoomed to 200 % is a 640×400 CSS
 * viewport at twice the pixels. Nothing the visitor needs may end up clipped out of the panel:
 * the header's Close button, the conversation, and the rating form after the chat is closed.
 */

// one browser and one app for the file
const browser = await launchBrowser(t)
const { app, origin } = await listeningApp(t)
const setup = widgetSetup(browser, app, origin)
const ZOOMED = { viewport: { width: 640, height: 400 }, deviceScaleFactor: 2 }

/** Whether the element is drawn where a pointer (and an eye) finds it: inside the viewport and on top at its centre. */
const onScreen = (target: Locator) => target.evaluate((el) => {
  const r = el.getBoundingClientRect()
  const [x, y] = [r.left + r.width / 2, r.top + r.height / 2]
  if (r.width === 0 || r.height === 0 || x < 0 || y < 0 || x > innerWidth || y > innerHeight) return false
  const hit = (el.getRootNode() as ShadowRoot).elementFromPoint(x, y)
  return !!hit && (hit === el || el.contains(hit))
})

/** Scrolls `target` into view the way the browser does for a screen reader or a Tab, then says what is on screen. */
async function reveal(page: Page, target: Locator): Promise<{ target: boolean; close: boolean }> {
  await target.evaluate((el) => el.scrollIntoView({ block: 'nearest' }))
  return { target: await onScreen(target), close: await onScreen(page.getByRole('dialog').getByRole('button', { name: 'Close chat' })) }
}

t.test('at 200 % zoom the closed chat keeps its Close button, its conversation and its rating form on screen', async (t) => {
  const { pageOrigin, agent, page } = await setup(t, ZOOMED)
  await page.goto(pageOrigin)
  await launcher(page).click()
  await send(page, 'Is the grinder in stock?')
  const sent = page.getByText('Is the grinder in stock?')
  await sent.locator('xpath=..').getByText(/\d\d:\d\d/).waitFor()
  t.same(await reveal(page, sent), { target: true, close: true }, 'open: the message and the Close button are on screen')

  const sessionId = await eventually(async () => (await page.evaluate(() => localStorage.getItem('chatSessionId'))) ?? undefined, 'the session')
  await app.inject({ method: 'POST', url: `/api/chat/sessions/${sessionId}/close`, headers: bearer(agent) })
  const group = page.getByRole('group', { name: 'Rate this chat' })
  await group.waitFor()
  await page.screenshot({ path: `${ARTIFACTS}/widget-zoom-200-closed.png` })
  t.same(await reveal(page, group.getByRole('button', { name: 'Send rating' })), { target: true, close: true }, 'closed: Send rating and the Close button are on screen together')
  t.same(await reveal(page, group.getByRole('button', { name: '5 stars' })), { target: true, close: true }, 'closed: the stars and the Close button are on screen together')
  t.same(await reveal(page, sent), { target: true, close: true }, 'closed: the conversation can still be read, with the Close button on screen')
  await expectAccessible(t, page, 'widget at 200 % zoom, rating a closed chat', { include: '[data-chat-widget]' })

  await page.keyboard.press('Escape')
  await group.waitFor({ state: 'hidden' })
  t.equal(await page.evaluate(() => document.querySelector('[data-chat-widget]')?.shadowRoot?.activeElement?.className), 'launch', 'Esc closes it and the focus is back on the launcher')
})
