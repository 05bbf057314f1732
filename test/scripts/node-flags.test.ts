import { readFileSync } from 'node:fs'
import t from 'tap'
import { productNodeFlags } from '../../scripts/node-flags.js'

t.test('the Docker image runs the server with the same Node flags as npm start (and so the benchmarks)', async (t) => {
  const flags = productNodeFlags()
  t.ok(flags.some((f) => f.startsWith('--max-semi-space-size=')), 'the young generation is sized (README: Node flags)')
  const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8'))?.[1]
  const argv = JSON.parse(cmd ?? '[]') as string[]
  t.same(argv, ['node', ...flags, '--import', 'tsx', 'src/server.ts'])
})
