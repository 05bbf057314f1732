// requires: chromium
import t from 'tap'
import { expectAccessible } from '../helpers/axe.js'
import { ARTIFACTS, launchBrowser, listeningApp, signInDashboard } from '../helpers/browser.js'
import { makeSession, makeSite, makeStaff } from '../helpers/fixtures.js'

/**
 * The dashboard on a phone (375×667) in each of its languages: an agent can still write. Ukrainian
 * and Russian button labels are longer than English ones, and the reply box beside them must not
 * be squeezed to a sliver.
 */

// one browser and one app for the file
const browser = await launchBrowser(t)
const { app, origin } = await listeningApp(t)

const LANGUAGES = [
  { label: 'English', reply: 'Reply', attach: 'Attach a file', send: 'Send' },
  { label: 'Українська', reply: 'Відповідь', attach: 'Прикріпити файл', send: 'Надіслати' },
  { label: 'Русский', reply: 'Ответ', attach: 'Прикрепить файл', send: 'Отправить' },
]

t.test('on a phone the reply box takes at least half the screen\'s width in English, Ukrainian and Russian, its buttons still there', async (t) => {
  const site = await makeSite(app)
  const admin = await makeStaff(app, 'admin', 'Boss')
  const session = await makeSession(app, site, { name: 'Marta', firstMessage: 'Where is my order?' })
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true })
  t.teardown(() => context.close())
  const page = await context.newPage()
  await signInDashboard(page, origin, admin.token, `#/inbox/${session.id}`)

  for (const language of LANGUAGES) {
    await page.locator('select.language').selectOption({ label: language.label })
    const reply = page.getByRole('textbox', { name: language.reply })
    await reply.waitFor()
    await reply.fill('Your parcel left the warehouse this morning')
    const width = (await reply.boundingBox())?.width ?? 0
    t.ok(width >= 375 / 2, `${language.label}: the reply box is ${Math.round(width)} px wide`)
    for (const name of [language.attach, language.send]) {
      const box = await page.getByRole('button', { name, exact: true }).boundingBox()
      t.ok(box && box.x >= 0 && box.x + box.width <= 375, `${language.label}: "${name}" is on the screen`)
    }
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-phone-reply-${language.label}.png` })
    await expectAccessible(t, page, `${language.label}: conversation on a phone`)
  }
})

t.test('on a phone and at 200 % zoom an admin reads the conversation: its messages get a third of the screen or more, and the reply box can be reached', async (t) => {
  const site = await makeSite(app)
  const admin = await makeStaff(app, 'admin', 'Boss')
  const session = await makeSession(app, site, { name: 'Marta', firstMessage: 'Where is my order?' })
  // an admin's conversation header is the tallest (assignment, Close, Export, Erase); 640×400 is 1280×800 at 200 %
  for (const viewport of [{ width: 375, height: 667 }, { width: 640, height: 400 }]) {
    const context = await browser.newContext({ locale: 'en-US', viewport })
    t.teardown(() => context.close())
    const page = await context.newPage()
    await signInDashboard(page, origin, admin.token, `#/inbox/${session.id}`)
    const log = page.getByRole('log', { name: /Marta/ })
    const reply = page.getByRole('textbox', { name: 'Reply' })
    await reply.waitFor()
    const size = `${viewport.width}×${viewport.height}`
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-phone-conversation-${size}.png` })
    const logHeight = await log.evaluate((el) => el.clientHeight)
    t.ok(logHeight >= viewport.height / 3, `${size}: the messages get ${logHeight} px of ${viewport.height}`)
    const message = log.getByText('Where is my order?')
    await message.scrollIntoViewIfNeeded()
    t.ok(await message.evaluate((el) => {
      const r = el.getBoundingClientRect()
      return r.top >= 0 && r.bottom <= innerHeight && document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2) === el
    }), `${size}: the visitor's message is on screen`)
    await reply.focus()
    await reply.scrollIntoViewIfNeeded()
    const box = await reply.boundingBox()
    t.ok(box && box.y >= 0 && box.y + box.height <= viewport.height, `${size}: the reply box is on screen once focused`)
    await expectAccessible(t, page, `${size}: an admin's conversation`)
  }
})
