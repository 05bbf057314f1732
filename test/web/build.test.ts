import t from 'tap'
import { BudgetError, buildWebAssets, checkBudgets, WIDGET_BUDGETS } from '../../src/web/build.js'
import { LABEL_PATTERN } from '../../src/chat/label-pattern.js'
import { ORIGIN_PATTERN } from '../../src/chat/origin-pattern.js'

t.test('the widget fits its gzip budgets: 4 kB until opened (the loader), 16 kB in all with the chat UI and the client SDK', async (t) => {
  const { sizes } = await buildWebAssets()
  t.ok(sizes.loaderGzipBytes <= WIDGET_BUDGETS.loaderGzipBytes, `loader ${sizes.loaderGzipBytes} B`)
  t.ok(sizes.totalGzipBytes <= WIDGET_BUDGETS.totalGzipBytes, `loader + UI ${sizes.totalGzipBytes} B`)
  t.equal(sizes.totalGzipBytes, sizes.loaderGzipBytes + sizes.uiGzipBytes, 'each part is fetched (and gzipped) on its own')
  t.doesNotThrow(() => checkBudgets(sizes))
})

t.test('the widget chunk leaves out what only Node needs: the SDK uploads through XMLHttpRequest there, not a counted fetch stream', async (t) => {
  const ui = (await buildWebAssets()).ui.body.toString()
  t.ok(ui.includes('XMLHttpRequest'), 'the browser upload path is in')
  t.notOk(ui.includes('TransformStream'), 'the Node upload path is not')
})

t.test('a part over its budget fails the build, naming the part', async (t) => {
  const { sizes } = await buildWebAssets()
  t.throws(() => checkBudgets(sizes, { loaderGzipBytes: WIDGET_BUDGETS.loaderGzipBytes, totalGzipBytes: sizes.totalGzipBytes - 1 }),
    new BudgetError(`widget over its size budget: totalGzipBytes: ${sizes.totalGzipBytes} B > ${sizes.totalGzipBytes - 1} B`))
  t.throws(() => checkBudgets(sizes, { loaderGzipBytes: 100, totalGzipBytes: WIDGET_BUDGETS.totalGzipBytes }), /loaderGzipBytes/)
})

t.test('the dashboard checks labels and origins before saving with the server\'s rules themselves, not copies', async (t) => {
  const dashboard = (await buildWebAssets()).dashboardJs.body.toString()
  for (const [name, pattern] of [['LABEL_PATTERN', LABEL_PATTERN], ['ORIGIN_PATTERN', ORIGIN_PATTERN]]) {
    t.ok(dashboard.includes(JSON.stringify(pattern)), `${name} is in the bundle as the server has it`)
  }
})
