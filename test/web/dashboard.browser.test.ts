// requires: chromium
import t from 'tap'
import type { Browser, WebSocketRoute } from 'playwright-core'
import { expectAccessible } from '../helpers/axe.js'
import { ARTIFACTS, embedPage, eventually, hostSite, launchBrowser, listeningApp, signInDashboard } from '../helpers/browser.js'
import { bearer, makeSession, makeSite, makeStaff, replyRequest, sendRequest } from '../helpers/fixtures.js'
import { launcher, messageBox, send } from '../helpers/widget.js'

// one browser and one app for the file: each test makes its own staff, sites and browser contexts
const browser: Browser = await launchBrowser(t)
const { app, origin } = await listeningApp(t)

t.test('a manager logs in, sees a new chat appear, answers it and closes it; the visitor sees both', async (t) => {
  let html = ''
  const pageOrigin = await hostSite(t, () => html)
  const site = await makeSite(app, [pageOrigin])
  html = embedPage(origin, site.apiKey)
  const admin = await makeStaff(app, 'admin', 'Olena')

  const managerContext = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  const visitorContext = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  t.teardown(() => Promise.all([managerContext.close(), visitorContext.close()]))
  const dash = await managerContext.newPage()
  const cspViolations: string[] = []
  dash.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text())
  })

  await dash.goto(`${origin}/admin`)
  await dash.getByRole('button', { name: 'Sign in' }).waitFor()
  await expectAccessible(t, dash, 'dashboard login')
  await dash.getByLabel('Email').fill(admin.email)
  await dash.getByLabel('Password').fill(admin.password)
  await dash.getByRole('button', { name: 'Sign in' }).click()
  await dash.getByRole('searchbox', { name: 'Search chats' }).waitFor()

  const visitor = await visitorContext.newPage()
  await visitor.goto(pageOrigin)
  await launcher(visitor).click()
  await send(visitor, 'Where is my order #1042?')

  const row = dash.getByRole('link', { name: /Where is my order #1042\?/ })
  await row.waitFor({ timeout: 20_000 })
  await eventually(async () => (/^\(1\) /.test(await dash.title()) ? true : undefined), 'the tab title to count the unread chat')
  t.match(await dash.evaluate(() => document.querySelector<HTMLLinkElement>('link[rel="icon"]')?.href), /^data:image\/svg\+xml,.*%3E1%3C/, 'so does the favicon')
  await row.click()
  const reply = dash.getByRole('textbox', { name: 'Reply' })
  await reply.fill('It ships today.')
  await reply.press('Enter')
  await visitor.getByText('It ships today.').waitFor({ timeout: 15_000 })

  const res = await app.inject({ method: 'GET', url: '/api/chat/sessions', headers: bearer(admin) })
  t.match(res.json().data.sessions, [{ unreadCount: 0, lastMessage: { text: 'It ships today.', senderName: 'Olena' } }], 'opening the chat marked it read')
  await dash.getByText(pageOrigin, { exact: false }).first().waitFor()
  await dash.screenshot({ path: `${ARTIFACTS}/dashboard-conversation.png` })
  await expectAccessible(t, dash, 'dashboard conversation')

  await dash.getByRole('button', { name: 'Close chat' }).click()
  await dash.getByRole('textbox', { name: 'Reply' }).and(dash.locator('[disabled]')).waitFor()
  await visitor.getByText('This conversation has ended.').waitFor({ timeout: 15_000 })
  await visitor.getByRole('button', { name: 'Start a new chat' }).waitFor()
  await visitor.screenshot({ path: `${ARTIFACTS}/widget-closed.png` })
  await expectAccessible(t, visitor, 'widget, chat closed by the agent')
  await expectAccessible(t, dash, 'dashboard, closed conversation')
  t.equal(await visitor.getByRole('button', { name: 'Save contact' }).count(), 0, 'no contact form on a closed chat')
  await visitor.getByRole('button', { name: 'Start a new chat' }).click()
  await messageBox(visitor).waitFor()
  t.equal(await visitor.getByText('It ships today.').count(), 0, 'a new chat starts empty')
  t.equal(await visitor.evaluate(() => localStorage.getItem('chatSessionId')), null, 'until the first message, no session')

  await dash.setViewportSize({ width: 390, height: 844 })
  await dash.screenshot({ path: `${ARTIFACTS}/dashboard-phone.png` })
  await dash.setViewportSize({ width: 1280, height: 800 })
  t.same(cspViolations, [], 'the dashboard runs under the server CSP')
})

t.test('inbox, stats, users and sites: an admin finds chats, figures and a ready embed snippet', async (t) => {
  const site = await makeSite(app, ['https://shop.example'])
  const admin = await makeStaff(app, 'admin', 'Olena')
  const chats = [
    { name: 'Marta Kovalenko', phone: '+380 67 123 4567', pageUrl: 'https://shop.example/beans/ethiopia', firstMessage: 'Hi! Is the Ethiopia Guji available in 1 kg bags?', reply: 'Hi Marta! Yes, 1 kg bags ship on Friday.' },
    { name: 'Daniel Weber', pageUrl: 'https://shop.example/checkout', firstMessage: 'My card was declined at checkout, can you help?' },
    { pageUrl: 'https://shop.example/', firstMessage: 'Do you deliver to Lviv?' },
  ]
  for (const { reply, ...body } of chats) {
    const s = await makeSession(app, site, body)
    if (reply) await app.inject(replyRequest(admin, s.id, reply))
  }
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  t.teardown(() => context.close())
  // an open stand-in socket: these pages are about REST data, not live delivery
  await context.routeWebSocket(/\/api\/chat\/ws/, () => {})
  const dash = await context.newPage()
  await signInDashboard(dash, origin, admin.token)
  await dash.getByRole('link', { name: /Marta Kovalenko/ }).waitFor()
  await expectAccessible(t, dash, 'dashboard inbox list')
  await dash.getByRole('link', { name: /Marta Kovalenko/ }).click()
  await dash.getByRole('heading', { name: 'Marta Kovalenko' }).waitFor()
  await dash.getByRole('link', { name: /Daniel Weber.*1 unread/ }).waitFor()
  await dash.screenshot({ path: `${ARTIFACTS}/dashboard-inbox.png` })
  await expectAccessible(t, dash, 'dashboard inbox with a conversation open')

  await dash.getByRole('link', { name: 'Statistics' }).click()
  await dash.getByRole('img', { name: 'Sessions per day' }).waitFor()
  await dash.screenshot({ path: `${ARTIFACTS}/dashboard-stats.png` })
  await expectAccessible(t, dash, 'dashboard statistics')
  await dash.locator('.tile').filter({ hasText: /^[1-9]\d*Sessions$/ }).waitFor()
  await dash.getByLabel('Stats from date').fill(new Date(Date.now() + 86_400_000).toISOString().slice(0, 10))
  await dash.locator('.tile').filter({ hasText: /^0Sessions$/ }).waitFor()
  t.pass('the stats follow the date range')

  await dash.getByRole('link', { name: 'Sites' }).click()
  await dash.getByText(`<script src="${origin}/widget.js" data-api-key="${site.apiKey}" async></script>`).waitFor()
  await expectAccessible(t, dash, 'dashboard sites')
  const siteName = (await app.inject({ method: 'GET', url: `/api/admin/sites/${site.id}`, headers: bearer(admin) })).json().data.site.name
  const origins = dash.getByRole('textbox', { name: `Allowed origins of ${siteName}` })
  await origins.fill('https://shop.example, shop.example/cart')
  await origins.press('Enter')
  await dash.getByRole('alert').filter({ hasText: '"shop.example/cart" is not an origin: write https://host (with :port if any), or * for any' }).waitFor()
  await expectAccessible(t, dash, 'dashboard sites, an origin refused')
  await origins.fill('https://shop.example, https://www.shop.example')
  await origins.press('Enter')
  await eventually(async () => {
    const res = await app.inject({ method: 'GET', url: `/api/admin/sites/${site.id}`, headers: bearer(admin) })
    return res.json().data.site.origins.length === 2 ? true : undefined
  }, 'the new origins to be saved')

  await dash.getByRole('link', { name: 'Users' }).click()
  await dash.getByRole('button', { name: 'Add user' }).waitFor()
  await expectAccessible(t, dash, 'dashboard users')
  await dash.getByRole('textbox', { name: 'Name', exact: true }).fill('Taras')
  await dash.getByRole('textbox', { name: 'Email', exact: true }).fill('taras@example.com')
  await dash.getByLabel('Password').fill('long enough pw')
  await dash.getByRole('button', { name: 'Add user' }).click()
  await dash.getByText('taras@example.com').waitFor()
  t.pass('a user was added from the dashboard')
})

t.test('an agent sees no administration links', async (t) => {
  const agent = await makeStaff(app, 'agent')
  const context = await browser.newContext()
  t.teardown(() => context.close())
  const dash = await context.newPage()
  await signInDashboard(dash, origin, agent.token)
  await dash.getByRole('link', { name: 'Statistics' }).waitFor()
  t.equal(await dash.getByRole('link', { name: 'Sites' }).count(), 0)
})

t.test('the dashboard socket puts a new chat on top and updates its preview live, with no offline banner', async (t) => {
  const agent = await makeStaff(app, 'agent')
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  t.teardown(() => context.close())
  const sockets: WebSocketRoute[] = []
  const received: string[] = []
  // a stand-in for the dashboard socket: the events are the contract's, whatever the server offers yet
  await context.routeWebSocket(/\/api\/chat\/ws/, (ws) => {
    sockets.push(ws)
    ws.onMessage((m) => void received.push(String(m)))
  })
  const dash = await context.newPage()
  await signInDashboard(dash, origin, agent.token)
  await dash.getByRole('searchbox', { name: 'Search chats' }).waitFor()
  const socket = await eventually(async () => sockets[0], 'the dashboard socket')
  t.equal(new URL(socket.url()).searchParams.get('token'), null, 'no token in the URL (proxies log URLs)')
  const first = await eventually(async () => received[0], 'the first frame')
  t.same(JSON.parse(first), { type: 'auth', token: agent.token }, 'the token travels in the first frame')
  t.same(JSON.parse(await eventually(async () => received[1], 'the ping')), { type: 'ping' })
  // the pong makes the dashboard catch up over REST; that read must be over before the events come, or
  // it would replace the list they build. Once the initial list is on screen (its pager counts it), the next
  // unread count is the catch-up's, asked for right after it replaced the list
  await dash.getByText(/^\d+–\d+ of \d+$/).waitFor()
  const caughtUp = dash.waitForRequest((r) => new URL(r.url()).searchParams.get('unread') === 'true')
  socket.send(JSON.stringify({ type: 'pong' }))
  await caughtUp
  t.equal(await dash.getByRole('status').filter({ hasText: 'offline' }).isVisible(), false, 'no banner while the socket is up')

  const now = new Date().toISOString()
  const session = {
    id: '00000000-0000-4000-8000-0000000000aa', userSessionId: 'visitor-live-1', status: 'open', name: 'Iryna', phone: null, email: null,
    pageUrl: 'https://shop.example/cart', locale: 'uk', siteId: '00000000-0000-4000-8000-0000000000bb', createdAt: now, lastSeq: 0,
    lastMessage: null, lastMessageAt: now, unreadCount: 0, assignedTo: null, labels: [], closedAt: null, firstResponseAt: null, updatedAt: now,
  }
  socket.send(JSON.stringify({ type: 'session.created', session }))
  await dash.getByRole('link', { name: /Iryna/ }).waitFor()
  socket.send(JSON.stringify({ type: 'message.created', message: { id: '00000000-0000-4000-8000-0000000000cc', sessionId: session.id, seq: 1, sender: 'visitor', senderName: null, text: 'Do you deliver to Lviv?', createdAt: now } }))
  await dash.getByRole('link', { name: /Iryna.*Do you deliver to Lviv\?.*1 unread/ }).waitFor()

  await socket.close({ code: 1011 })
  await dash.getByText('Live updates are offline').waitFor()
  t.pass('a dropped socket shows the banner')
})

t.test('Sign out revokes the token on the server; a site that takes its secret from browsers says what that exposes', async (t) => {
  const admin = await makeStaff(app, 'admin', 'Olena')
  const site = await makeSite(app, ['https://shop.example'])
  await app.inject({ method: 'PATCH', url: `/api/admin/sites/${site.id}`, headers: bearer(admin), payload: { legacyBrowserSecret: true } })
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  t.teardown(() => context.close())
  const dash = await context.newPage()
  await signInDashboard(dash, origin, admin.token)
  await dash.getByRole('link', { name: 'Sites' }).click()
  const warning = dash.getByRole('note').filter({ hasText: 'read every chat of this site' })
  await warning.waitFor()
  await dash.screenshot({ path: `${ARTIFACTS}/dashboard-sites-legacy-secret.png` })
  await expectAccessible(t, dash, 'dashboard sites with the legacy-secret warning')
  await warning.getByRole('button', { name: 'Stop accepting the secret from browsers' }).click()
  await eventually(async () => {
    const res = await app.inject({ method: 'GET', url: `/api/admin/sites/${site.id}`, headers: bearer(admin) })
    return res.json().data.site.legacyBrowserSecret === false ? true : undefined
  }, 'the setting to be turned off')
  await warning.waitFor({ state: 'detached' })

  await dash.getByRole('button', { name: 'Sign out' }).click()
  await dash.getByRole('button', { name: 'Sign in' }).waitFor()
  await eventually(async () => {
    const res = await app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(admin) })
    return res.statusCode === 401 ? true : undefined
  }, 'the signed-out token to stop working')
  t.pass('the token no longer opens the API')
})

t.test('keyboard focus stays put: on its row while the list updates live, and back on the row after "Back to chats" on a phone', async (t) => {
  const site = await makeSite(app)
  const agent = await makeStaff(app, 'agent', 'Olena', [site.id])
  const oksana = await makeSession(app, site, { name: 'Oksana Focus', firstMessage: 'First question' })
  const petro = await makeSession(app, site, { name: 'Petro Focus', firstMessage: 'Hello' })
  const context = await browser.newContext({ viewport: { width: 375, height: 667 } })
  t.teardown(() => context.close())
  const dash = await context.newPage()
  await signInDashboard(dash, origin, agent.token)
  const focusedHref = () => dash.evaluate(() => document.activeElement?.getAttribute('href') ?? document.activeElement?.tagName)
  const oksanaRow = dash.getByRole('link', { name: /Oksana Focus/ })
  await oksanaRow.focus()
  t.equal((await app.inject(sendRequest(petro, { text: 'Are you there?' }))).statusCode, 201)
  await dash.getByRole('link', { name: /Petro Focus.*Are you there\?/ }).waitFor()
  t.equal(await focusedHref(), `#/inbox/${oksana.id}`, 'a live update of the list leaves focus on the row it was on')

  // a conversation longer than a phone's screen: its log scrolls, and a keyboard alone can scroll it
  for (let i = 1; i <= 12; i++) await app.inject(sendRequest(oksana, { text: `Line ${i} of a long story about a parcel` }))
  await dash.getByRole('link', { name: /Oksana Focus.*Line 12/ }).waitFor()
  await oksanaRow.press('Enter')
  await dash.getByRole('textbox', { name: 'Reply' }).waitFor()
  const log = dash.getByRole('log', { name: /Oksana Focus/ })
  await log.getByText('Line 12 of a long story').waitFor()
  t.ok(await log.evaluate((el) => el.scrollHeight > el.clientHeight), 'the log scrolls')
  await expectAccessible(t, dash, 'a long conversation on a phone')
  const offScreen = () => dash.evaluate(() => [...document.querySelectorAll('.conv-head :is(a, button, select)')]
    .filter((el) => { const r = el.getBoundingClientRect(); return r.left < 0 || r.right > innerWidth })
    .map((el) => el.getAttribute('aria-label') ?? el.textContent))
  t.same(await offScreen(), [], 'the conversation header fits the phone: no control off the screen, nothing to scroll sideways')
  await log.focus()
  await dash.keyboard.press('Home')
  await eventually(async () => (await log.evaluate((el) => el.scrollTop)) === 0 || undefined, 'Home to scroll the log to its start')
  await dash.getByRole('link', { name: 'Back to chats' }).press('Enter')
  await dash.getByRole('list', { name: 'Chats' }).waitFor()
  t.equal(await focusedHref(), `#/inbox/${oksana.id}`, 'back in the list, focus is on the chat just left')
  await expectAccessible(t, dash, 'inbox on a phone, back from a conversation')

  // an admin's header holds more (the Assigned-to select, Export, Erase): it fits too
  const admin = await makeStaff(app, 'admin', 'Boss')
  await signInDashboard(dash, origin, admin.token, `#/inbox/${petro.id}`)
  await dash.getByRole('button', { name: 'Erase conversation' }).waitFor()
  t.same(await offScreen(), [], "an admin's conversation header fits the phone too")
})

t.test('a filter wins over a slower list load started before it: the list shows what the filter asks for', async (t) => {
  const site = await makeSite(app)
  const agent = await makeStaff(app, 'agent', 'Ivan', [site.id])
  const read = await makeSession(app, site, { name: 'Read Roman', firstMessage: 'seen' })
  await app.inject({ method: 'POST', url: `/api/chat/sessions/${read.id}/read`, headers: bearer(agent) })
  await makeSession(app, site, { name: 'Unread Uliana', firstMessage: 'not seen' })
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  t.teardown(() => context.close())
  const dash = await context.newPage()
  await signInDashboard(dash, origin, agent.token)
  await dash.getByRole('link', { name: /Read Roman/ }).waitFor()
  // the next unfiltered list answer is held until the filtered one has been shown
  let releaseUnfiltered: () => void = () => {}
  const unfilteredHeld = new Promise<void>((resolve) => (releaseUnfiltered = resolve))
  await dash.route(/\/api\/chat\/sessions\?(?!.*unread=true)/, async (route) => {
    await unfilteredHeld
    await route.continue()
  }, { times: 1 })
  await dash.getByRole('combobox', { name: 'Status' }).selectOption('open')
  await dash.getByRole('checkbox', { name: 'Unread' }).check()
  await eventually(async () => (await dash.getByRole('link', { name: /Read Roman/ }).count()) === 0 ? true : undefined, 'the unread filter applied')
  releaseUnfiltered()
  const unfilteredAnswer = await dash.waitForResponse(/\/api\/chat\/sessions\?(?!.*unread=true)/)
  await unfilteredAnswer.finished()
  await dash.waitForTimeout(300)
  t.equal(await dash.getByRole('link', { name: /Read Roman/ }).count(), 0, 'the older, unfiltered answer did not replace the filtered list')
  t.equal(await dash.getByRole('link', { name: /Unread Uliana/ }).count(), 1)
})


t.test('the browser going offline: the dashboard says so at once, keeps a reply it could not send, and once back online catches up without a reload', async (t) => {
  const site = await makeSite(app)
  const agent = await makeStaff(app, 'agent', 'Olena')
  const s = await makeSession(app, site, { name: 'Marta', firstMessage: 'Is my order shipped?' })
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  t.teardown(() => context.close())
  const dash = await context.newPage()
  await signInDashboard(dash, origin, agent.token, `#/inbox/${s.id}`)
  const log = dash.getByRole('log', { name: /Marta/ })
  await log.getByText('Is my order shipped?').waitFor()
  const banner = dash.getByRole('status').filter({ hasText: 'Live updates are offline' })
  await eventually(async () => ((await banner.count()) === 0 ? true : undefined), 'the socket up')

  await context.setOffline(true)
  await banner.waitFor({ timeout: 3000 })
  t.pass('the banner (a status region) within 3 s, not whenever the socket times out')
  const reply = dash.getByRole('textbox', { name: 'Reply' })
  await reply.fill('Yes, on Monday')
  await reply.press('Enter')
  await dash.getByRole('alert').filter({ hasText: 'The server cannot be reached' }).waitFor()
  t.equal(await reply.inputValue(), 'Yes, on Monday', 'the reply stays in the box, to send again')
  await expectAccessible(t, dash, 'dashboard offline, a reply not sent')
  await app.inject(sendRequest(s, { text: 'Hello? Anyone?' }))

  await context.setOffline(false)
  await log.getByText('Hello? Anyone?').waitFor({ timeout: 5000 })
  t.equal(await banner.count(), 0, 'the banner goes once the socket is back')
  await reply.press('Enter')
  await log.getByText('Yes, on Monday').waitFor()
  await app.inject(sendRequest(s, { text: 'Thanks!' }))
  await log.getByText('Thanks!').waitFor()
  t.same(await log.locator('.msg .bubble').allTextContents(), ['Is my order shipped?', 'Hello? Anyone?', 'Yes, on Monday', 'Thanks!'], 'each message once, in order, live again')
})
