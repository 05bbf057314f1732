// requires: chromium
import t, { type Test } from 'tap'
import type { Page } from 'playwright-core'
import { expectAccessible } from '../helpers/axe.js'
import { embedPage, hostSite, launchBrowser, listeningApp } from '../helpers/browser.js'
import { makeSite } from '../helpers/fixtures.js'
import { launcher, messageBox, send } from '../helpers/widget.js'

/**
 * A site's own colour (`data-color`) must not make the widget unreadable: text drawn on the
 * colour (the header, the visitor's bubbles, the buttons) keeps 4.5:1 and the keyboard focus
 * stays visible (3:1 against the white panel), whatever colour the site picks, mid-tones included.
 */

// one browser, one app and one host page for the file; each colour gets its own site and browser context
const browser = await launchBrowser(t)
const { app, origin } = await listeningApp(t)
let html = ''
const pageOrigin = await hostSite(t, () => html)
const WIDGET = { include: '[data-chat-widget]' }

// brand colours sites use: orange, blue, teal and yellow are mid-to-light tones, the red is dark
const COLOURS = ['#f97316', '#3b82f6', '#14b8a6', '#ffeb3b', '#b91c1c']

type Rgb = [number, number, number]
/** The colours in a computed CSS value, as 0–1 sRGB triples (Chromium writes `rgb(…)` and `color(srgb …)`). */
const coloursIn = (css: string): Rgb[] => [
  ...[...css.matchAll(/rgba?\((\d+), (\d+), (\d+)/g)].map((m) => [m[1], m[2], m[3]].map((n) => Number(n) / 255) as Rgb),
  ...[...css.matchAll(/color\(srgb ([\d.]+) ([\d.]+) ([\d.]+)/g)].map((m) => [m[1], m[2], m[3]].map(Number) as Rgb),
]
const luminance = (rgb: Rgb) => {
  const [r, g, b] = rgb.map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)) as Rgb
  return 0.2126 * r + 0.7152 * g + 0.0722 * b
}
const contrast = (a: Rgb, b: Rgb) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number]
  return (hi + 0.05) / (lo + 0.05)
}
const WHITE: Rgb = [1, 1, 1]

/** A computed style of the element that has the focus in the widget's shadow root. */
const focusedStyle = (page: Page, property: 'outlineColor' | 'borderColor') =>
  page.evaluate((p) => {
    const el = document.querySelector('[data-chat-widget]')?.shadowRoot?.activeElement
    return el ? getComputedStyle(el)[p] : ''
  }, property)

async function openWidget(t: Test, colour: string): Promise<Page> {
  html = embedPage(origin, (await makeSite(app, [pageOrigin])).apiKey, `data-color="${colour}"`)
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  t.teardown(() => context.close())
  const page = await context.newPage()
  await page.goto(pageOrigin)
  return page
}

t.test('text on the site\'s colour keeps its contrast: the visitor\'s bubble, the buttons and the header', async (t) => {
  for (const colour of COLOURS) {
    const page = await openWidget(t, colour)
    await launcher(page).click()
    // nobody is online: the panel asks for an email with a button on the colour
    await page.getByRole('button', { name: 'Save email' }).waitFor()
    await send(page, 'Do you ship to Lviv?')
    await page.getByText('Do you ship to Lviv?').locator('xpath=..').getByText(/\d\d:\d\d/).waitFor()
    await expectAccessible(t, page, `widget with data-color ${colour}`, WIDGET)

    // axe leaves text on a gradient unchecked: measure the title against both ends of the header
    // axe leaves text on a gradient unchecked: measure the title and the status line under it
    // ("We reply by email", drawn with the element's opacity) against both ends of the header
    const header = await page.locator('[data-chat-widget] header').evaluate((el) => {
      const status = el.querySelector('.who p') as Element
      return { ink: getComputedStyle(el).color, background: getComputedStyle(el).backgroundImage, statusOpacity: Number(getComputedStyle(status).opacity) }
    })
    const [ink] = coloursIn(header.ink) as [Rgb]
    const ends = coloursIn(header.background)
    t.equal(ends.length, 2, `${colour}: the header is a gradient of two colours`)
    const title = Math.min(...ends.map((end) => contrast(ink, end)))
    t.ok(title >= 4.5, `${colour}: the header's title keeps 4.5:1 at both ends of the gradient (${title.toFixed(2)})`)
    const a = header.statusOpacity
    const status = Math.min(...ends.map((end) => contrast(ink.map((c, i) => c * a + (end[i] as number) * (1 - a)) as Rgb, end)))
    t.ok(status >= 4.5, `${colour}: so does the status line under it (${status.toFixed(2)})`)
  }
})

t.test('keyboard focus stays visible on the white panel in the site\'s colour, light ones included', async (t) => {
  for (const colour of ['#ffeb3b', '#14b8a6', '#3b82f6']) {
    const page = await openWidget(t, colour)
    await launcher(page).focus()
    await page.keyboard.press('Enter')
    await messageBox(page).waitFor()
    t.equal(await page.evaluate(() => document.querySelector('[data-chat-widget]')?.shadowRoot?.activeElement?.getAttribute('aria-label')), 'Message', 'opening moves the focus to the message box')
    const [border] = coloursIn(await focusedStyle(page, 'borderColor')) as [Rgb]
    t.ok(contrast(border, WHITE) >= 3, `${colour}: the focused message box's border stands out from white (${contrast(border, WHITE).toFixed(2)}:1)`)
    await page.getByRole('textbox', { name: 'Email' }).focus()
    await page.keyboard.press('Tab')
    t.equal(await page.evaluate(() => document.querySelector('[data-chat-widget]')?.shadowRoot?.activeElement?.textContent), 'Save email', 'Tab reaches the button')
    const [outline] = coloursIn(await focusedStyle(page, 'outlineColor')) as [Rgb]
    t.ok(contrast(outline, WHITE) >= 3, `${colour}: the focus ring of a control on the panel stands out from white (${contrast(outline, WHITE).toFixed(2)}:1)`)
  }
})
