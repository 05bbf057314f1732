// requires: chromium
import t, { type Test } from 'tap'
import type { Browser } from 'playwright-core'
import { expectAccessible } from '../helpers/axe.js'
import { embedPage, eventually, hostSite, launchBrowser, listeningApp, signInDashboard } from '../helpers/browser.js'
import { bearer, makeSite, makeStaff } from '../helpers/fixtures.js'
import { launcher } from '../helpers/widget.js'

let browser: Browser
t.before(async () => {
  browser = await launchBrowser(t)
})

/** A listening app, a site and a page embedding its widget, and a fresh browser context. */
async function embedded(t: Test) {
  const { app, origin } = await listeningApp(t)
  let html = ''
  const pageOrigin = await hostSite(t, () => html)
  const site = await makeSite(app, [pageOrigin])
  html = embedPage(origin, site.apiKey)
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  t.teardown(() => context.close())
  return { app, origin, pageOrigin, site, context }
}

t.test('with nobody online the widget says it replies by email and asks for one; an agent opening the dashboard turns it online', async (t) => {
  const { app, origin, pageOrigin, site, context } = await embedded(t)
  const agent = await makeStaff(app, 'agent', 'Olena', [site.id])
  const page = await context.newPage()
  await page.goto(pageOrigin)
  await launcher(page).click()
  await page.getByText('We reply by email').waitFor()
  await expectAccessible(t, page, 'widget with nobody online, asking for an email')
  await page.getByRole('textbox', { name: 'Email' }).fill('marta@example.com')
  await page.getByRole('button', { name: 'Save email' }).click()
  await page.getByText('Thanks! We will reply by email.').waitFor()
  const sessions = (await app.inject({ method: 'GET', url: '/api/chat/sessions', headers: bearer(agent) })).json().data.sessions as { email: string | null }[]
  t.same(sessions.map((s) => s.email), ['marta@example.com'], 'the email reached a session of its own')

  const dashboard = await page.context().newPage()
  await signInDashboard(dashboard, origin, agent.token)
  await dashboard.getByRole('combobox', { name: 'Availability' }).waitFor()
  // the widget keeps what it learnt about availability for a while: a fresh page asks again
  await eventually(async () => {
    await page.reload()
    await launcher(page).click()
    return (await page.getByText('Online', { exact: true }).count()) === 1 ? true : undefined
  }, 'the widget sees the agent online')
  t.equal(await page.getByRole('textbox', { name: 'Email' }).count(), 0, 'and asks for no email again once given')
})

t.test('when the chat UI cannot be loaded a click says so instead of doing nothing, and a later click loads it', async (t) => {
  const { pageOrigin, context } = await embedded(t)
  // a first visit while the server is down: the launcher came from a cache, its UI chunk does not
  const uiChunk = /\/widget\/ui\.[^/]+\.js$/
  let refused = 0
  await context.route(uiChunk, (route) => {
    refused++
    return route.abort('connectionrefused')
  })
  const page = await context.newPage()
  await page.goto(pageOrigin)
  await launcher(page).click()
  const note = page.getByRole('status').filter({ hasText: 'Chat is unavailable right now. Please try again later.' })
  await note.waitFor()
  t.ok(refused > 0, 'the UI chunk was asked for and refused')
  t.equal(await page.getByRole('dialog').count(), 0)
  await expectAccessible(t, page, 'widget launcher saying the chat is unavailable')

  await context.unroute(uiChunk)
  await launcher(page).click()
  await page.getByRole('dialog').waitFor()
  t.equal(await note.count(), 0, 'the note is gone once the chat opens')
})
