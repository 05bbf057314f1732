// requires: chromium
import t from 'tap'
import { axeViolations } from '../helpers/axe.js'
import { launchBrowser } from '../helpers/browser.js'

t.test('the axe helper finds serious violations, also inside an open shadow root, and passes a clean page', async (t) => {
  const browser = await launchBrowser(t)
  const context = await browser.newContext()
  t.teardown(() => context.close())
  const page = await context.newPage()
  await page.setContent(`<!doctype html><html lang="en"><head><title>Check</title></head><body><main><h1>Shop</h1>
    <p style="color:#bbb;background:#fff">pale text</p><div id="host"></div></main></body></html>`)
  await page.evaluate(() => {
    const root = document.getElementById('host')?.attachShadow({ mode: 'open' })
    root?.append(document.createElement('button'))
  })
  const found = await axeViolations(page)
  t.match(found.join('\n'), /color-contrast \(serious\) at p/, 'low contrast in the page')
  t.match(found.join('\n'), /button-name \(critical\) at #host >>> button/, 'a nameless button in the shadow root')
  t.same(await axeViolations(page, { include: '#host' }), [found.find((v) => v.startsWith('button-name'))], 'include narrows the check')

  await page.setContent('<!doctype html><html lang="en"><head><title>Check</title></head><body><main><h1>Shop</h1><button>Buy</button></main></body></html>')
  t.same(await axeViolations(page), [], 'a clean page has none')
})
