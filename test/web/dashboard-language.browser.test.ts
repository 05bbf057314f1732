// requires: chromium
import t from 'tap'
import type { Browser } from 'playwright-core'
import { expectAccessible } from '../helpers/axe.js'
import { launchBrowser, listeningApp } from '../helpers/browser.js'
import { bearer, makeSession, makeSite, makeStaff, replyRequest } from '../helpers/fixtures.js'

// one browser and one app for the file: each test makes its own staff, sites and browser contexts
const browser: Browser = await launchBrowser(t)
const { app, origin } = await listeningApp(t)

const CYRILLIC = /[а-яіїєґ]/i

t.test('switching to Українська translates the dashboard, sets <html lang>, survives a reload, and formats stats in Ukrainian', async (t) => {
  const site = await makeSite(app)
  const admin = await makeStaff(app, 'admin', 'Olena')
  const answered = await makeSession(app, site, { name: 'Marta', firstMessage: 'Do you have decaf?' })
  await app.inject(replyRequest(admin, answered.id, 'Yes, the Colombia.'))
  await makeSession(app, site, { name: 'Taras', firstMessage: 'Where is my order?' })

  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } })
  t.teardown(() => context.close())
  await context.routeWebSocket(/\/api\/chat\/ws/, () => {})
  const dash = await context.newPage()
  await dash.goto(`${origin}/admin`)
  const language = dash.getByRole('combobox', { name: 'Language' })
  t.same(await language.locator('option').allTextContents(), ['English', 'Українська', 'Русский'], 'the login screen offers the three languages, each in its own words')
  t.equal(await dash.evaluate(() => document.documentElement.lang), 'en', 'an English browser gets English')

  await dash.evaluate((token) => localStorage.setItem('chatAdminToken', token), admin.token)
  await dash.reload()
  await dash.getByRole('searchbox', { name: 'Search chats' }).waitFor()
  await language.selectOption({ label: 'Українська' })
  await dash.getByRole('searchbox', { name: 'Пошук чатів' }).waitFor()
  t.equal(await dash.evaluate(() => document.documentElement.lang), 'uk')
  t.ok(await dash.getByRole('link', { name: 'Статистика' }).isVisible(), 'the navigation is in Ukrainian')
  await dash.getByRole('link', { name: /Taras.*1 непрочитане/ }).waitFor()
  t.pass('the unread count takes its Ukrainian plural form')
  t.equal(await dash.getByRole('combobox', { name: 'Мова' }).evaluate((el) => el === document.activeElement), true, 'focus stays on the language select')

  await dash.reload()
  await dash.getByRole('searchbox', { name: 'Пошук чатів' }).waitFor()
  t.equal(await dash.evaluate(() => document.documentElement.lang), 'uk', 'the choice survives a reload')
  t.equal(await dash.getByRole('combobox', { name: 'Мова' }).inputValue(), 'uk')
  await dash.getByRole('link', { name: /Marta/ }).click()
  await dash.getByRole('textbox', { name: 'Відповідь' }).waitFor()
  await expectAccessible(t, dash, 'dashboard conversation in Ukrainian')

  await dash.getByRole('link', { name: 'Статистика' }).click()
  await dash.getByRole('img', { name: 'Сесії за днями' }).waitFor()
  const stats = (await app.inject({ method: 'GET', url: '/api/chat/stats', headers: bearer(admin) })).json().data
  const firstDay: string = stats.sessionsPerDay[0].date
  const axis = await dash.locator('svg.chart text.axis').first().textContent()
  t.equal(axis, new Intl.DateTimeFormat('uk', { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(new Date(firstDay)), 'chart dates in Ukrainian')
  t.match(axis, CYRILLIC, 'with a Ukrainian month name')
  const average = await dash.locator('.tile').filter({ hasText: 'Перша відповідь, у середньому' }).locator('.value').textContent()
  t.match(average, /^\d+(,\d)? (с|хв|год)$/, 'durations in Ukrainian units')
  await dash.locator('.tile').filter({ hasText: /^2Сесії$/ }).waitFor()
  await expectAccessible(t, dash, 'dashboard statistics in Ukrainian')

  await dash.getByRole('combobox', { name: 'Мова' }).selectOption({ label: 'English' })
  await dash.getByRole('img', { name: 'Sessions per day' }).waitFor()
  t.equal(await dash.evaluate(() => [document.documentElement.lang, localStorage.getItem('chatAdminLocale')].join()), 'en,en', 'and back to English')
})

t.test('the first visit follows the browser: Russian for a Russian browser, English for a German one', async (t) => {
  for (const [browserLocale, lang, signIn] of [['ru-RU', 'ru', 'Войти'], ['de-DE', 'en', 'Sign in']] as const) {
    const context = await browser.newContext({ locale: browserLocale })
    t.teardown(() => context.close())
    const page = await context.newPage()
    await page.goto(`${origin}/admin`)
    await page.getByRole('button', { name: signIn }).waitFor()
    t.equal(await page.evaluate(() => document.documentElement.lang), lang, `${browserLocale} → ${lang}`)
    if (lang === 'ru') await expectAccessible(t, page, 'dashboard login in Russian')
  }
})
