// requires: chromium
import t from 'tap'
import { createResumeLink, resumeUrl } from '../../src/chat/resume-links.js'
import { expectAccessible } from '../helpers/axe.js'
import { eventually, launchBrowser, listeningApp } from '../helpers/browser.js'
import { bearer, replyRequest } from '../helpers/fixtures.js'
import { openChatAndSend, sessionWith, widgetSetup } from '../helpers/widget.js'

/**
 * The link of an offline email (`<page>#chat_resume=<token>`) reopens the conversation on the
 * page it started from, in any browser, once (API.md: Offline visitors and email).
 */

const browser = await launchBrowser(t)
const { app, origin } = await listeningApp(t)
const setup = widgetSetup(browser, app, origin)

t.test('an email\'s link opens the chat with its conversation in another browser, once, and leaves the address', async (t) => {
  const { pageOrigin, agent, page } = await setup(t)
  await openChatAndSend(page, `${pageOrigin}/order`, 'Where is my order?')
  const { id } = await sessionWith(app, agent, 'Where is my order?')
  t.equal((await app.inject(replyRequest(agent, id, 'It ships today'))).statusCode, 201)
  const session = (await app.inject({ method: 'GET', url: `/api/chat/sessions/${id}`, headers: bearer(agent) })).json().data.session
  // the link as the offline email builds it (src/email/deliver.ts)
  const link = resumeUrl({ origins: [pageOrigin] }, session.pageUrl, await createResumeLink(app.db, { siteId: session.siteId, sessionId: id }, 3_600_000)) ?? ''
  t.match(link, `${pageOrigin}/order#chat_resume=rl_`)

  // another browser: nothing stored, the link alone
  const other = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  t.teardown(() => other.close())
  const elsewhere = await other.newPage()
  await elsewhere.goto(link)
  const widget = elsewhere.locator('[data-chat-widget]')
  await eventually(async () => (await elsewhere.getByRole('dialog').isVisible()) || undefined, 'the chat to open by itself')
  await eventually(async () => (await widget.getByText('It ships today', { exact: true }).count()) === 1 || undefined, 'the agent\'s reply')
  t.equal(await widget.getByText('Where is my order?', { exact: true }).count(), 1, 'with the visitor\'s message')
  t.equal(elsewhere.url(), `${pageOrigin}/order`, 'the used token is taken off the address')
  t.equal(await elsewhere.evaluate(() => localStorage.getItem('chatSessionId')), id, 'this browser now holds the conversation')
  await expectAccessible(t, elsewhere, 'widget opened from an email link', { include: '[data-chat-widget]' })

  // a reload keeps it (stored now); the spent link opens nothing in a third browser
  await elsewhere.reload()
  await elsewhere.getByRole('button', { name: /chat/i }).first().click()
  await eventually(async () => (await widget.getByText('It ships today', { exact: true }).count()) === 1 || undefined, 'the conversation after a reload')
  const third = await browser.newContext()
  t.teardown(() => third.close())
  const stranger = await third.newPage()
  // the widget's own try of the link, not a fixed wait: one that ran out first would prove nothing
  const tried = stranger.waitForResponse((r) => r.url().endsWith('/api/public/chat/resume'), { timeout: 30_000 })
  await stranger.goto(link)
  t.equal((await tried).status(), 401, 'the widget tried the spent link and was refused')
  t.equal(await stranger.locator('[data-chat-widget]').getByText('It ships today').count(), 0, 'a used link shows nothing of the conversation')
  t.equal(await stranger.evaluate(() => localStorage.getItem('chatSessionId')), null, 'and stores no session')
})
