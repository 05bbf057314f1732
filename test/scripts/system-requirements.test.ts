import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { gateTestFiles, hasCommand, skipReason } from '../../scripts/system-requirements.js'

t.test('a test file naming a missing system command is skipped, with the Debian package in the reason', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gate-'))
  const needsMissing = join(dir, 'a.test.ts')
  const needsNode = join(dir, 'b.test.ts')
  const needsNothing = join(dir, 'c.test.ts')
  writeFileSync(needsMissing, '// requires: no-such-command-here\nimport t from "tap"\n')
  writeFileSync(needsNode, '// requires: node\n')
  writeFileSync(needsNothing, 'import t from "tap"\n')
  const gate = gateTestFiles([needsMissing, needsNode, needsNothing])
  t.same(gate.run, [needsNode, needsNothing])
  t.same(gate.skipped, [{ file: needsMissing, missing: ['no-such-command-here'] }])
  t.match(skipReason(['redis-server']), /Debian package "redis-server": apt-get install redis-server/)
})

t.test('commands in sbin folders are found even when PATH lacks them', async (t) => {
  t.equal(hasCommand('no-such-command-here', '/usr/bin'), false)
  t.equal(hasCommand('node', process.env.PATH ?? ''), true)
})
