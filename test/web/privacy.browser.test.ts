// requires: chromium
import t from 'tap'
import type { Browser, Page } from 'playwright-core'
import { expectAccessible } from '../helpers/axe.js'
import { ARTIFACTS, eventually, launchBrowser, listeningApp, signInDashboard } from '../helpers/browser.js'
import { bearer, makeSession, makeSite, makeStaff, sessionHeaders } from '../helpers/fixtures.js'

// one browser and one app for the file: each test makes its own staff, sites and browser contexts
const browser: Browser = await launchBrowser(t)
const { app, origin } = await listeningApp(t)

/** A dashboard signed in with `token`, its live socket real (erasures reach it that way). */
async function dashboardAs(t: { teardown: (fn: () => unknown) => void }, token: string, hash: string): Promise<Page> {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } })
  t.teardown(() => context.close())
  const page = await context.newPage()
  await signInDashboard(page, origin, token, hash)
  return page
}

t.test('an admin sees a rating, filters by it, erases a visitor (gone from every open dashboard) and finds it in the audit log; Settings say whether email is on', async (t) => {
  const admin = await makeStaff(app, 'admin', 'Iryna')
  const site = await makeSite(app)
  const rated = await makeSession(app, site, { name: 'Ann Rated', firstMessage: 'Where is my parcel?' })
  await app.inject({ method: 'POST', url: `/api/chat/sessions/${rated.id}/close`, headers: bearer(admin) })
  const rating = await app.inject({ method: 'POST', url: `/api/public/chat/sessions/${rated.id}/rating`, headers: sessionHeaders(rated), payload: { score: 4, comment: 'Quick and kind' } })
  t.equal(rating.statusCode, 201)
  const leaving = await makeSession(app, site, { name: 'Bohdan Leaving', email: 'bohdan@example.com', firstMessage: 'Please forget me' })

  const dash = await dashboardAs(t, admin.token, `#/inbox/${rated.id}`)
  const details = dash.getByRole('complementary', { name: 'Contact details' })
  await details.getByRole('img', { name: '4 of 5 stars' }).waitFor()
  await details.getByText('Quick and kind').waitFor()
  await expectAccessible(t, dash, 'dashboard conversation with a rating')
  await dash.getByRole('combobox', { name: 'Rating' }).selectOption({ label: '4 stars' })
  const list = dash.getByRole('list', { name: 'Chats' })
  await list.getByRole('link', { name: /Bohdan Leaving/ }).waitFor({ state: 'detached' })
  t.equal(await list.getByRole('link', { name: /Ann Rated/ }).count(), 1, 'the 4-star chat stays, the unrated one goes')

  // a second dashboard has the visitor's conversation open while the first erases them
  const watching = await dashboardAs(t, admin.token, `#/inbox/${leaving.id}`)
  await watching.getByRole('heading', { name: 'Bohdan Leaving' }).waitFor()
  dash.on('dialog', (d) => void d.accept())
  await dash.getByRole('link', { name: 'Privacy' }).click()
  const card = dash.getByRole('article', { name: /^site-/ })
  await card.getByRole('textbox', { name: 'Visitor ID' }).fill(leaving.userSessionId)
  await expectAccessible(t, dash, 'dashboard privacy page')
  await card.getByRole('button', { name: 'Erase visitor' }).click()
  await dash.getByRole('status').getByText('Conversations erased: 1').waitFor()
  await watching.getByText('This conversation was erased.').waitFor()
  t.equal(await watching.getByRole('list', { name: 'Chats' }).getByRole('link', { name: /Bohdan Leaving/ }).count(), 0, 'gone from the other dashboard\'s list')
  const gone = await app.inject({ method: 'GET', url: `/api/chat/sessions/${leaving.id}`, headers: bearer(admin) })
  t.equal(gone.statusCode, 404)

  await dash.getByRole('link', { name: 'Settings' }).click()
  await dash.getByRole('article', { name: 'Email' }).getByText('Off. Set SMTP_URL').waitFor()

  await dash.getByRole('link', { name: 'Audit log' }).click()
  const row = dash.getByRole('row', { name: /visitor\.erased/ })
  await row.waitFor()
  t.match(await row.textContent(), /Iryna/, 'who erased')
  t.notMatch(await dash.getByRole('table').textContent(), new RegExp(leaving.userSessionId), 'the log does not keep who was erased')
  await expectAccessible(t, dash, 'dashboard audit log')
  await dash.screenshot({ path: `${ARTIFACTS}/dashboard-audit.png` })

  await dash.getByRole('combobox', { name: 'Language' }).selectOption({ label: 'Українська' })
  await dash.getByRole('heading', { name: 'Журнал аудиту' }).waitFor()
  await expectAccessible(t, dash, 'dashboard audit log in Ukrainian')
})

/** An admin's dashboard open on a conversation of `name`, ready to erase it. */
async function adminOnConversation(t: { teardown: (fn: () => unknown) => void }, name: string, firstMessage: string) {
  const admin = await makeStaff(app, 'admin', 'Iryna')
  const site = await makeSite(app)
  const gone = await makeSession(app, site, { name, firstMessage })
  const dash = await dashboardAs(t, admin.token, `#/inbox/${gone.id}`)
  await dash.getByRole('heading', { name }).waitFor()
  return { admin, site, gone, dash }
}

t.test('an admin downloads a conversation and erases it from its own screen; the keyboard focus lands on what replaced it', async (t) => {
  const { admin, site, gone, dash } = await adminOnConversation(t, 'Olha Erased', 'Delete my data')
  const download = dash.waitForEvent('download')
  await dash.getByRole('button', { name: 'Export conversation' }).click()
  t.equal((await download).suggestedFilename(), `chat-${gone.id}.json`)

  dash.on('dialog', (d) => void d.accept())
  await dash.getByRole('button', { name: 'Erase conversation' }).press('Enter')
  await dash.getByText('This conversation was erased.').waitFor()
  await dash.getByRole('list', { name: 'Chats' }).getByRole('link', { name: /Olha Erased/ }).waitFor({ state: 'detached' })
  t.equal((await app.inject({ method: 'GET', url: `/api/chat/sessions/${gone.id}`, headers: bearer(admin) })).statusCode, 404)
  t.equal(await dash.evaluate(() => document.activeElement?.textContent), 'This conversation was erased.', 'the focus is on the notice, not dropped to the page')
  await expectAccessible(t, dash, 'dashboard, a conversation erased from its own screen')

  // on a phone the list takes the conversation's place: the focus goes to the search
  const alsoGone = await makeSession(app, site, { name: 'Roman Erased', firstMessage: 'Me too' })
  await dash.setViewportSize({ width: 375, height: 667 })
  await dash.goto(`${origin}/admin#/inbox/${alsoGone.id}`)
  await dash.getByRole('button', { name: 'Erase conversation' }).press('Enter')
  await dash.getByRole('list', { name: 'Chats' }).getByRole('link', { name: /Roman Erased/ }).waitFor({ state: 'detached' })
  await eventually(async () => (await dash.evaluate(() => document.activeElement?.getAttribute('aria-label'))) === 'Search chats' || undefined, 'the focus on the search')
  t.pass('on a phone, the focus is on the search')
})

t.test('a conversation erased while the dashboard was offline is replaced by the notice when it is back (its event never came)', async (t) => {
  const { admin, gone, dash } = await adminOnConversation(t, 'Petro Offline', 'Delete me later')
  const banner = dash.getByRole('status').filter({ hasText: 'Live updates are offline' })
  await eventually(async () => ((await banner.count()) === 0 ? true : undefined), 'the socket up')
  await dash.context().setOffline(true)
  await banner.waitFor()
  t.equal((await app.inject({ method: 'DELETE', url: `/api/chat/sessions/${gone.id}`, headers: bearer(admin) })).statusCode, 204)
  await dash.context().setOffline(false)
  await dash.getByText('This conversation was erased.').waitFor({ timeout: 10_000 })
  t.equal(await dash.getByRole('heading', { name: 'Petro Offline' }).count(), 0, 'the erased conversation is no longer shown')
  await expectAccessible(t, dash, 'dashboard, a conversation erased while offline')
})

t.test('a conversation erased while the dashboard was offline: when the socket is back but its catch-up fails (a proxy\'s 502), the catch-up is tried again and brings the notice', async (t) => {
  const { admin, gone, dash } = await adminOnConversation(t, 'Pavlo Retried', 'Delete me as well')
  const banner = dash.getByRole('status').filter({ hasText: 'Live updates are offline' })
  await eventually(async () => ((await banner.count()) === 0 ? true : undefined), 'the socket up')
  await dash.context().setOffline(true)
  await banner.waitFor()
  t.equal((await app.inject({ method: 'DELETE', url: `/api/chat/sessions/${gone.id}`, headers: bearer(admin) })).statusCode, 204)
  // the REST API answers 502 until a second after the socket is back (page.route leaves sockets
  // alone), so the catch-up on its return fails; the next one must come by itself
  let online = false
  let backAt = Number.POSITIVE_INFINITY
  let failedAfterOnline = 0
  await dash.route(/\/api\/chat\/sessions(\/|\?|$)/, async (route) => {
    if (Date.now() - backAt > 1000) return route.continue()
    if (online) failedAfterOnline++
    return route.fulfill({ status: 502, contentType: 'text/plain', body: 'Bad Gateway' })
  })
  await dash.context().setOffline(false)
  online = true
  await eventually(async () => ((await banner.count()) === 0 ? true : undefined), 'the socket back')
  backAt = Date.now()
  await dash.getByText('This conversation was erased.').waitFor({ timeout: 10_000 })
  t.ok(failedAfterOnline > 0, `the catch-up on the socket's return failed (${failedAfterOnline} requests answered 502)`)
  t.equal(await dash.getByRole('heading', { name: 'Pavlo Retried' }).count(), 0, 'the erased conversation is no longer shown')
})
