/**
 * WCAG 2.1 AA checks with axe-core in a real page. axe walks open shadow roots by itself,
 * so the widget (in its open shadow root) is checked with the page around it.
 *
 *   await expectAccessible(t, page, 'dashboard inbox')                 // whole page
 *   await expectAccessible(t, page, 'widget open', { include: '[data-chat-widget]' })
 *
 * Fails the test with one line per serious or critical violation (rule, impact, what to
 * fix, the offending elements); moderate and minor findings are not failures.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Page } from 'playwright-core'
import type { Test } from 'tap'
import type { AxeResults, ImpactValue } from 'axe-core'

export const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']
const FAILING: ImpactValue[] = ['serious', 'critical']

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

/** The serious and critical WCAG 2.1 AA violations on the page (or inside `include`), one readable line each. */
export async function axeViolations(page: Page, options: { include?: string } = {}): Promise<string[]> {
  // evaluated through the DevTools protocol, so the page's CSP (no inline script) does not stop it
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(`${axeSource};0`)
  const results = await page.evaluate(async ({ include, tags }) => {
    const axe = (window as unknown as { axe: typeof import('axe-core') }).axe
    const context = include ? { include: [include] } : document
    const r = await axe.run(context, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
    return { violations: r.violations } as Pick<AxeResults, 'violations'>
  }, { include: options.include, tags: WCAG_21_AA })
  return results.violations
    .filter((v) => v.impact && FAILING.includes(v.impact))
    .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}) at ${n.target.flat().join(' >>> ')}: ${[...n.any, ...n.all, ...n.none].map((c) => c.message).join(' ') || v.help}`))
}

/** Asserts the page (or `include`) has no serious or critical WCAG 2.1 AA violation. */
export async function expectAccessible(t: Test, page: Page, screen: string, options: { include?: string } = {}): Promise<void> {
  t.same(await axeViolations(page, options), [], `${screen}: no serious or critical WCAG 2.1 AA violation (axe-core)`)
}
