// requires: chromium
import t from 'tap'
import type { Browser, Page } from 'playwright-core'
import { expectAccessible } from '../helpers/axe.js'
import { ARTIFACTS, eventually, launchBrowser, listeningApp, signInDashboard } from '../helpers/browser.js'
import { bearer, makeSession, makeSite, makeStaff, poll, type Staff } from '../helpers/fixtures.js'

// one browser and one app for the file: each test makes its own staff, sites and browser contexts
const browser: Browser = await launchBrowser(t)
const { app, origin } = await listeningApp(t)

async function dashboardAs(origin: string, staff: Staff): Promise<Page> {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 860 } })
  const page = await context.newPage()
  await signInDashboard(page, origin, staff.token)
  await page.getByRole('searchbox', { name: 'Search chats' }).waitFor()
  return page
}

/** The focused element as "TAG accessible text", to say where the keyboard is. */
const focused = (page: Page) => page.evaluate(() => `${document.activeElement?.tagName} ${document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent?.trim()}`)

t.test('an agent takes a chat, writes a private note, inserts a canned response with /, labels it, filters by label and by "Mine" — by keyboard, live in a colleague\'s tab', async (t) => {
  const site = await makeSite(app)
  const admin = await makeStaff(app, 'admin', 'Boss')
  const agent = await makeStaff(app, 'agent', 'Olena', [site.id])
  for (const [shortcut, text] of [['hello', 'Hi {{visitor.name}}, this is {{agent.name}}. {{order.id}}How can I help?'], ['help', 'Our help centre: https://shop.example/help'], ['refund', 'Refunds take 3 days.']]) {
    t.equal((await app.inject({ method: 'POST', url: '/api/chat/canned', headers: bearer(admin), payload: { shortcut, text, siteId: null } })).statusCode, 201)
  }
  const marta = await makeSession(app, site, { name: 'Marta', firstMessage: 'Where is my order #1042?' })
  const taras = await makeSession(app, site, { name: 'Taras', firstMessage: 'Do you ship to Lviv?' })

  const dash = await dashboardAs(origin, agent)
  const colleague = await dashboardAs(origin, admin)
  t.teardown(() => Promise.all([dash.context().close(), colleague.context().close()]))
  await dash.getByRole('link', { name: /Marta/ }).waitFor()
  await expectAccessible(t, dash, 'inbox with assignment and label filters')

  // Availability
  const availability = dash.getByRole('combobox', { name: 'Availability' })
  t.same(await availability.locator('option').allTextContents(), ['Online', 'Away'])
  await availability.selectOption('away')
  await eventually(async () => ((await app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(agent) })).json().data.user.availability === 'away' ? true : undefined), 'away saved')
  await availability.selectOption('online')
  await eventually(async () => ((await app.inject({ method: 'GET', url: '/api/public/chat/availability', headers: { 'x-api-key': site.apiKey } })).json().data.online ? true : undefined), 'the site online again')

  // Mine / Unassigned / All
  await dash.getByRole('radio', { name: 'Mine' }).focus()
  await dash.keyboard.press('Space')
  await dash.getByText('No chats match these filters.').waitFor()
  t.ok(await dash.getByRole('radio', { name: 'Mine' }).isChecked())
  await dash.keyboard.press('ArrowRight')
  t.ok(await dash.getByRole('radio', { name: 'Unassigned' }).isChecked(), 'arrow keys move between the three')
  await dash.getByRole('link', { name: /Taras/ }).waitFor()

  // take Marta's chat
  await dash.getByRole('link', { name: /Marta/ }).press('Enter')
  await dash.getByRole('heading', { name: 'Marta' }).waitFor()
  await dash.getByRole('button', { name: 'Assign to me' }).press('Enter')
  await dash.getByRole('button', { name: 'Unassign' }).waitFor()
  await dash.getByText('Assigned to Olena (you)').waitFor()
  t.equal(await focused(dash), 'BUTTON Unassign', 'the keyboard stays on the assignment: "Unassign" replaced "Assign to me"')
  t.match((await app.inject({ method: 'GET', url: `/api/chat/sessions/${marta.id}`, headers: bearer(admin) })).json().data.session.assignedTo, { id: agent.id, name: 'Olena' })

  // the colleague's tab hears of it live
  await colleague.getByRole('link', { name: /Marta/ }).click()
  await colleague.getByText('Assigned to Olena').first().waitFor()

  // a private note, by keyboard
  const noteSwitch = dash.getByRole('switch', { name: 'Private note' })
  await noteSwitch.focus()
  await dash.keyboard.press('Space')
  t.equal(await noteSwitch.getAttribute('aria-checked'), 'true')
  const reply = dash.getByRole('textbox', { name: 'Reply' })
  await reply.fill('VIP customer: refund approved by Boss')
  await reply.press('Enter')
  const note = dash.locator('.msg.note').filter({ hasText: 'VIP customer: refund approved by Boss' })
  await note.waitFor()
  t.match(await note.textContent(), /Private note/, 'the note says what it is')
  t.not(await note.locator('.bubble').evaluate((el) => getComputedStyle(el).backgroundColor), await dash.locator('.msg.in .bubble').first().evaluate((el) => getComputedStyle(el).backgroundColor), 'in a colour of its own')
  await colleague.locator('.msg.note').filter({ hasText: 'refund approved' }).waitFor()
  t.pass('the colleague sees the note live')
  await expectAccessible(t, dash, 'conversation with a note, in note mode')
  await noteSwitch.press('Space')
  t.equal(await noteSwitch.getAttribute('aria-checked'), 'false', 'switched off: replies again')
  t.notOk(JSON.stringify(await poll(app, marta)).includes('refund approved'), 'the visitor never gets the note')

  // canned responses with /
  await reply.focus()
  await reply.pressSequentially('/he')
  const listbox = dash.getByRole('listbox')
  await listbox.waitFor()
  t.same(await listbox.getByRole('option').allTextContents().then((o) => o.map((x) => x.split(' ')[0])), ['/hello', '/help'])
  await expectAccessible(t, dash, 'reply box with the canned responses listbox open')
  await reply.press('ArrowDown')
  t.equal(await listbox.getByRole('option', { selected: true }).textContent().then((x) => x?.split(' ')[0]), '/help')
  await reply.press('ArrowUp')
  await reply.press('Enter')
  t.equal(await reply.inputValue(), 'Hi Marta, this is Olena. How can I help?', 'inserted with the names filled in, an unknown placeholder empty')
  t.equal(await listbox.isVisible(), false)
  await reply.press('Enter')
  await dash.locator('.msg.agent').filter({ hasText: 'Hi Marta, this is Olena.' }).waitFor()
  t.match((await poll(app, marta)).at(-1), { sender: 'agent', text: 'Hi Marta, this is Olena. How can I help?' }, 'the second Enter sent it')
  await reply.pressSequentially('Also: /ref')
  await listbox.waitFor()
  await reply.press('Tab')
  t.equal(await reply.inputValue(), 'Also: Refunds take 3 days.', 'Tab inserts too')
  await reply.pressSequentially(' /')
  await listbox.waitFor()
  await reply.press('Escape')
  t.equal(await listbox.isVisible(), false, 'Escape closes the list')
  t.equal(await reply.inputValue(), 'Also: Refunds take 3 days. /', 'and leaves the text alone')
  await reply.fill('')

  // labels
  // API.md: "a text box named Labels" (an input with a datalist would be a combobox)
  const labels = dash.getByRole('textbox', { name: 'Labels', exact: true })
  await labels.fill('billing')
  await labels.press('Enter')
  await dash.getByRole('button', { name: 'Remove label billing' }).waitFor()
  await labels.fill('VIP')
  await labels.press('Enter')
  await dash.getByRole('button', { name: 'Remove label vip' }).waitFor()
  t.same((await app.inject({ method: 'GET', url: `/api/chat/sessions/${marta.id}`, headers: bearer(agent) })).json().data.session.labels, ['billing', 'vip'])
  await labels.fill('no spaces allowed')
  await labels.press('Enter')
  await dash.getByText('A label is 1–32 letters, digits, _ or -.').waitFor()
  await labels.fill('')
  await dash.getByRole('button', { name: 'Remove label vip' }).press('Enter')
  await eventually(async () => (await dash.getByRole('button', { name: 'Remove label vip' }).count()) === 0 ? true : undefined, 'vip removed')
  await colleague.getByRole('button', { name: 'Remove label billing' }).waitFor()
  t.pass('labels reach the colleague live')
  await expectAccessible(t, dash, 'conversation with labels')

  // filter by label and by Mine
  await dash.getByRole('radio', { name: 'All', exact: true }).check()
  await dash.getByRole('link', { name: /Taras/ }).waitFor()
  await dash.getByRole('combobox', { name: 'Label', exact: true }).selectOption('billing')
  await eventually(async () => (await dash.getByRole('link', { name: /Taras/ }).count()) === 0 ? true : undefined, 'Taras filtered out by label')
  await dash.getByRole('link', { name: /Marta/ }).waitFor()
  await dash.getByRole('combobox', { name: 'Label', exact: true }).selectOption('')
  await dash.getByRole('radio', { name: 'Mine' }).check()
  await eventually(async () => (await dash.getByRole('link', { name: /Taras/ }).count()) === 0 ? true : undefined, 'only mine')
  await dash.getByRole('link', { name: /Marta.*billing/ }).waitFor()
  await dash.screenshot({ path: `${ARTIFACTS}/dashboard-workflow.png` })

  // unassign
  await dash.getByRole('button', { name: 'Unassign' }).press('Enter')
  await dash.getByRole('button', { name: 'Assign to me' }).waitFor()
  t.equal(await focused(dash), 'BUTTON Assign to me', 'and back on "Assign to me", not on <body>')
  await eventually(async () => (await dash.getByRole('link', { name: /Marta/ }).count()) === 0 ? true : undefined, '"Mine" no longer shows it')

  // an admin hands it over from the colleague's tab
  await colleague.getByRole('combobox', { name: 'Assigned to' }).selectOption({ label: 'Olena' })
  await dash.getByRole('link', { name: /Marta/ }).waitFor()
  t.pass('handed over: back in Olena\'s "Mine", live')

  // a label in use is offered on another conversation, one click away
  await dash.getByRole('radio', { name: 'All', exact: true }).check()
  await dash.getByRole('link', { name: /Taras/ }).click()
  await dash.getByRole('button', { name: 'Add label billing' }).click()
  await dash.getByRole('button', { name: 'Remove label billing' }).waitFor()
  t.same((await app.inject({ method: 'GET', url: `/api/chat/sessions/${taras.id}`, headers: bearer(agent) })).json().data.session.labels, ['billing'])

  // closed by keyboard: the Close button goes with the open chat, the focus to the conversation's heading
  await dash.getByRole('button', { name: 'Close chat' }).press('Enter')
  await eventually(async () => ((await dash.getByRole('button', { name: 'Close chat' }).count()) === 0 ? true : undefined), 'the chat closed')
  t.equal(await focused(dash), 'H2 Taras', 'focus on the heading of the chat just closed, not on <body>')
  await expectAccessible(t, dash, 'a chat just closed by keyboard')
})

t.test('admins manage canned responses and site membership; presence shows on the Users page', async (t) => {
  const shop = await makeSite(app)
  const other = await makeSite(app)
  const admin = await makeStaff(app, 'admin', 'Boss')
  const agent = await makeStaff(app, 'agent', 'Olena')
  const dash = await dashboardAs(origin, admin)
  t.teardown(() => dash.context().close())

  await dash.getByRole('link', { name: 'Canned responses' }).click()
  await dash.getByRole('heading', { name: 'Canned responses' }).waitFor()
  await dash.getByRole('textbox', { name: 'Shortcut', exact: true }).fill('thanks')
  await dash.getByRole('combobox', { name: 'Site', exact: true }).selectOption({ index: 0 })
  await dash.getByRole('textbox', { name: 'Text', exact: true }).fill('Thank you, {{visitor.name}}!')
  await dash.getByRole('button', { name: 'Add canned response' }).click()
  await dash.getByRole('textbox', { name: 'Shortcut of /thanks' }).waitFor()
  await expectAccessible(t, dash, 'canned responses page')
  await dash.getByRole('textbox', { name: 'Text of /thanks' }).fill('Thanks a lot, {{visitor.name}}!')
  await dash.getByRole('button', { name: 'Save /thanks' }).click()
  const thanks = async () => ((await app.inject({ method: 'GET', url: '/api/chat/canned', headers: bearer(admin) })).json().data.canned as { shortcut: string; text: string }[]).find((c) => c.shortcut === 'thanks')
  await eventually(async () => ((await thanks())?.text === 'Thanks a lot, {{visitor.name}}!' ? true : undefined), 'saved')
  await dash.getByRole('textbox', { name: 'Shortcut', exact: true }).fill('Thanks')
  await dash.getByRole('textbox', { name: 'Text', exact: true }).fill('x')
  await dash.getByRole('button', { name: 'Add canned response' }).click()
  t.equal(await dash.getByRole('textbox', { name: 'Shortcut', exact: true }).evaluate((el) => (el as HTMLInputElement).validity.valid), false, 'upper case refused before it is sent')
  dash.once('dialog', (d) => void d.accept())
  await dash.getByRole('button', { name: 'Delete /thanks' }).click()
  await eventually(async () => ((await dash.getByRole('textbox', { name: 'Shortcut of /thanks' }).count()) === 0 ? true : undefined), 'deleted from the page')
  t.equal(await thanks(), undefined, 'and from the server')

  await dash.getByRole('link', { name: 'Users' }).click()
  await dash.getByRole('button', { name: 'Add user' }).waitFor()
  const olenaRow = dash.getByRole('row').filter({ hasText: agent.email })
  await olenaRow.locator('summary').press('Enter')
  const fieldset = dash.getByRole('group', { name: 'Sites of Olena' })
  await fieldset.getByRole('checkbox', { name: 'All sites' }).uncheck()
  const shopName = (await app.inject({ method: 'GET', url: `/api/admin/sites/${shop.id}`, headers: bearer(admin) })).json().data.site.name as string
  await fieldset.getByRole('checkbox', { name: shopName }).check()
  await expectAccessible(t, dash, 'users page with site membership open')
  await olenaRow.getByRole('button', { name: 'Save sites' }).click()
  await eventually(async () => {
    const user = (await app.inject({ method: 'GET', url: `/api/admin/users/${agent.id}`, headers: bearer(admin) })).json().data.user
    return JSON.stringify(user.siteIds) === JSON.stringify([shop.id]) ? true : undefined
  }, 'membership saved')
  await dash.getByRole('row').filter({ hasText: agent.email }).getByText('1 site').waitFor()
  t.ok(await dash.getByRole('row').filter({ hasText: admin.email }).getByText('online', { exact: true }).isVisible(), 'the admin, with this dashboard open, is online')
  t.ok(await dash.getByRole('row').filter({ hasText: agent.email }).getByText('offline', { exact: true }).isVisible())
  t.ok(other.id)
})
