/**
 * Builds the web parts in memory and reports the widget's gzip sizes; exits non-zero when
 * a part is over its budget. The server builds the same way at start, so nothing is written.
 */
import { buildWebAssets, checkBudgets, WIDGET_BUDGETS } from '../src/web/build.js'

const kb = (n: number) => `${(n / 1024).toFixed(2)} kB`

const { sizes } = await buildWebAssets()
console.log(`widget.js (loader) gzip: ${kb(sizes.loaderGzipBytes)} of ${kb(WIDGET_BUDGETS.loaderGzipBytes)}`)
console.log(`chat UI chunk      gzip: ${kb(sizes.uiGzipBytes)} (the client SDK included)`)
console.log(`in all             gzip: ${kb(sizes.totalGzipBytes)} of ${kb(WIDGET_BUDGETS.totalGzipBytes)}`)
try {
  checkBudgets(sizes)
} catch (err) {
  console.error(err instanceof Error ? err.message : err)
  process.exit(1)
}
