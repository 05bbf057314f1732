// requires: chromium
import t from 'tap'
import type { Locator } from 'playwright-core'
import { launchBrowser, listeningApp, signInDashboard } from '../helpers/browser.js'
import { makeSession, makeSite, makeStaff } from '../helpers/fixtures.js'

/**
 * The keyboard focus in the dashboard is seen (WCAG 2.4.7, 1.4.11): the focus ring of a button,
 * a filter or a link reaches 3:1 against the colour right beside it, on the white panes as in
 * the dark navigation.
 */

const browser = await launchBrowser(t)
const { app, origin } = await listeningApp(t)

const channels = (css: string) => (css.match(/[\d.]+/g) ?? []).map(Number)
const luminance = (css: string) => {
  const [r, g, b] = channels(css).slice(0, 3).map((c) => c / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
  return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0)
}

/** The focus ring's contrast with what it is drawn on: the element's own background when drawn inside it, else the nearest opaque one around it. */
async function ringContrast(target: Locator): Promise<number> {
  const { ring, style, under } = await target.evaluate((el) => {
    const ringed = el.closest('.seg') ?? el
    const s = getComputedStyle(ringed)
    let behind: Element | null = parseFloat(s.outlineOffset) < 0 ? ringed : ringed.parentElement
    while (behind && /^rgba\(.*, 0\)$|^transparent$/.test(getComputedStyle(behind).backgroundColor)) behind = behind.parentElement
    return { ring: s.outlineColor, style: s.outlineStyle, under: behind ? getComputedStyle(behind).backgroundColor : 'rgb(255, 255, 255)' }
  })
  if (style === 'none') return 0
  const [a, b] = [luminance(ring), luminance(under)]
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)
}

t.test('the focus ring stands out by 3:1 on a button, the chosen filter (the only one of its group the keyboard lands on) and a link of the navigation', async (t) => {
  const site = await makeSite(app)
  const admin = await makeStaff(app, 'admin', 'Boss')
  const session = await makeSession(app, site, { name: 'Marta', firstMessage: 'Where is my order?' })
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } })
  t.teardown(() => context.close())
  const page = await context.newPage()
  await signInDashboard(page, origin, admin.token, `#/inbox/${session.id}`)
  await page.getByRole('textbox', { name: 'Reply' }).waitFor()

  const focusByKeyboard = async (target: Locator) => {
    // a click then Shift+Tab, Tab puts the focus there as the keyboard does (:focus-visible)
    await target.focus()
    await page.keyboard.press('Shift+Tab')
    await page.keyboard.press('Tab')
    t.ok(await target.evaluate((el) => el.matches(':focus-visible') || !!el.closest('.seg')?.matches(':has(input:focus-visible)')), 'focused by keyboard')
  }
  const targets: [string, Locator][] = [
    ['the "Assign to me" button', page.getByRole('button', { name: 'Assign to me' })],
    ['the checked "All" filter', page.getByRole('radio', { name: 'All', exact: true })],
    ['a nav link', page.getByRole('link', { name: 'Statistics' })],
  ]
  for (const [what, target] of targets) {
    await focusByKeyboard(target)
    const ratio = await ringContrast(target)
    t.ok(ratio >= 3, `${what}: the focus ring's contrast is ${ratio.toFixed(2)}:1`)
  }
})
