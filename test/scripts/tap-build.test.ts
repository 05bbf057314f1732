import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { isStale } from '../../scripts/tap-build.js'

const builtWith = (...plugins: string[]) => `// export const signature = ''\nexport const signature = \`${plugins.join('\n')}\`;\n`

t.test('a built test class with a plugin the config excludes, or without one it adds, is stale', async (t) => {
  const defaults = builtWith('@tapjs/after', '@tapjs/mock', '@tapjs/typescript')
  t.equal(isStale(['!@tapjs/typescript'], defaults), true, 'excluded but built in (a fresh npm install)')
  t.equal(isStale(['!@tapjs/typescript'], builtWith('@tapjs/after', '@tapjs/mock')), false, 'rebuilt without it')
  t.equal(isStale(['@tapjs/nock'], defaults), true, 'added but not built in')
  t.equal(isStale(['@tapjs/mock'], defaults), false)
  t.equal(isStale([], defaults), false, 'no plugin settings')
})

t.test('the installed test class is the one package.json asks for (npm test built it before running tap)', async (t) => {
  const { tap } = JSON.parse(readFileSync('package.json', 'utf8')) as { tap: { plugin: string[] } }
  const installed = readFileSync(fileURLToPath(import.meta.resolve('@tapjs/test/test-built')), 'utf8')
  t.match(installed, /export const signature = `@tapjs\//, 'the signature is where isStale reads it')
  t.equal(isStale(tap.plugin, installed), false)
})
