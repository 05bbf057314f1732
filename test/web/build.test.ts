import t from 'tap'
import { BudgetError, buildWebAssets, checkBudgets, WIDGET_BUDGETS } from '../../src/web/build.js'

t.test('the widget fits its gzip budgets: 4 kB for the loader, 12 kB for the chat UI', async (t) => {
  const { sizes } = await buildWebAssets()
  t.ok(sizes.loaderGzipBytes <= WIDGET_BUDGETS.loaderGzipBytes, `loader ${sizes.loaderGzipBytes} B`)
  t.ok(sizes.uiGzipBytes <= WIDGET_BUDGETS.uiGzipBytes, `UI ${sizes.uiGzipBytes} B`)
  t.doesNotThrow(() => checkBudgets(sizes))
})

t.test('a part over its budget fails the build, naming the part', async (t) => {
  const { sizes } = await buildWebAssets()
  t.throws(() => checkBudgets(sizes, { loaderGzipBytes: WIDGET_BUDGETS.loaderGzipBytes, uiGzipBytes: sizes.uiGzipBytes - 1 }),
    new BudgetError(`widget over its size budget: uiGzipBytes: ${sizes.uiGzipBytes} B > ${sizes.uiGzipBytes - 1} B`))
  t.throws(() => checkBudgets(sizes, { loaderGzipBytes: 100, uiGzipBytes: WIDGET_BUDGETS.uiGzipBytes }), /loaderGzipBytes/)
})
