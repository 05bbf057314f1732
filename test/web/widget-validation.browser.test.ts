// requires: chromium
import t from 'tap'
import { embedPage, hostSite, launchBrowser, listeningApp } from '../helpers/browser.js'
import { makeSite } from '../helpers/fixtures.js'
import { launcher } from '../helpers/widget.js'

/** A form's field the visitor got wrong is said in the widget's language, not the browser's, and tied to the field. */

const browser = await launchBrowser(t, ['--lang=en-US'])
const { app, origin } = await listeningApp(t)

t.test('in an English browser, a Ukrainian widget says a wrong email in Ukrainian, as the field\'s description, and sends nothing', async (t) => {
  let html = ''
  const pageOrigin = await hostSite(t, () => html)
  const site = await makeSite(app, [pageOrigin])
  html = embedPage(origin, site.apiKey).replace('data-locale="en"', 'data-locale="uk"')
  const context = await browser.newContext({ locale: 'en-US' })
  t.teardown(() => context.close())
  const page = await context.newPage()
  const starts: string[] = []
  page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/sessions')) starts.push(r.url()) })
  await page.goto(pageOrigin)
  t.equal(await page.evaluate(() => navigator.language), 'en-US', 'the browser speaks English')
  await launcher(page).click()
  // nobody is online: the email form shows
  const email = page.getByRole('textbox', { name: 'Email' })
  await email.fill('not an email')
  await page.getByRole('button', { name: 'Зберегти email' }).click()
  const said = () => email.evaluate((el) => ({
    invalid: el.getAttribute('aria-invalid'),
    description: (el.getRootNode() as ShadowRoot).getElementById(el.getAttribute('aria-describedby') ?? '')?.textContent ?? null,
    focused: (el.getRootNode() as ShadowRoot).activeElement === el,
  }))
  t.same(await said(), { invalid: 'true', description: 'Перевірте: Email', focused: true })
  await email.fill('')
  await page.getByRole('button', { name: 'Зберегти email' }).click()
  t.same(await said(), { invalid: 'true', description: 'Перевірте: Email', focused: true }, 'an empty one too')
  t.same(starts, [], 'nothing sent')
  await email.fill('ann@example.com')
  await page.getByRole('button', { name: 'Зберегти email' }).click()
  await page.getByText('Дякуємо').first().waitFor()
  t.equal(starts.length, 1, 'a right one is sent')
})
