import t from 'tap'
import { retryDelayMs } from '../../src/outbox/worker.js'

const cfg = { retryBaseMs: 1000, retryMaxMs: 60_000 }

t.test('the retry delay doubles per attempt, with half of it random, up to the cap', async (t) => {
  t.equal(retryDelayMs(1, cfg, () => 0), 500)
  t.equal(retryDelayMs(1, cfg, () => 1), 1000)
  t.equal(retryDelayMs(3, cfg, () => 1), 4000)
  t.equal(retryDelayMs(3, cfg, () => 0.5), 3000)
  t.equal(retryDelayMs(30, cfg, () => 1), 60_000, 'capped')
  t.equal(retryDelayMs(30, cfg, () => 0), 30_000)
})
