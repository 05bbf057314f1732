// requires: chromium
import t from 'tap'
import { expectAccessible } from '../helpers/axe.js'
import { eventually, launchBrowser, listeningApp } from '../helpers/browser.js'
import { bearer, makeStaff } from '../helpers/fixtures.js'
import { launcher, send, sessionWith, widgetSetup } from '../helpers/widget.js'

/** An admin erases the visitor's conversation while the widget is open: what the visitor writes next is not lost. */

const browser = await launchBrowser(t)
const { app, origin } = await listeningApp(t)
const setup = widgetSetup(browser, app, origin)

t.test('after an erasure the visitor\'s next message shows, is sent in a new session and stays on screen, without a reload', async (t) => {
  const { pageOrigin, agent, page } = await setup(t)
  const admin = await makeStaff(app, 'admin', 'Boss')
  await page.goto(pageOrigin)
  await launcher(page).click()
  await send(page, 'Please forget me')
  const erased = await sessionWith(app, agent, 'Please forget me')
  t.equal((await app.inject({ method: 'DELETE', url: `/api/chat/sessions/${erased.id}`, headers: bearer(admin) })).statusCode, 204)

  await send(page, 'Hello again')
  const fresh = await sessionWith(app, agent, 'Hello again')
  t.not(fresh.id, erased.id, 'a new session')
  const shown = page.locator('[data-chat-widget]').getByText('Hello again', { exact: true })
  // the widget settles: the erased conversation goes, the new message stays, shown once and not as failed
  await eventually(async () => ((await page.locator('[data-chat-widget]').getByText('Please forget me').count()) === 0 || undefined), 'the erased message to go')
  await eventually(async () => ((await shown.count()) === 1 && (await page.locator('[data-chat-widget] .msg.pending').count()) === 0) || undefined, '"Hello again" shown as sent, once')
  await page.waitForTimeout(1000)
  t.equal(await shown.count(), 1, 'still on screen a moment later, once')
  t.equal(await page.locator('[data-chat-widget]').getByText('Not sent').count(), 0, 'not marked as failed')
  t.equal(await page.evaluate(() => localStorage.getItem('chatSessionId')), fresh.id, 'the widget is in the new session')
  await expectAccessible(t, page, 'widget after an erasure', { include: '[data-chat-widget]' })
})
