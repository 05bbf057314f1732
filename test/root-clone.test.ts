import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { closedToPostgres, SYSTEM_DIR } from '../src/db/cluster.js'
import { fetchJson } from './helpers/http.js'
import { ROOT, startServer } from './helpers/server.js'

const run = promisify(execFile)

/**
 * A root newcomer: the project cloned into a folder user `postgres` cannot enter (like
 * /root, mode 700). `npm start` and the test runner work there with no setting: the
 * embedded cluster's binaries and data go where `postgres` can reach them.
 */
t.test('as root, in a folder closed to user postgres, the server starts, keeps its data, and the tests run', { skip: process.getuid?.() === 0 ? false : 'only as root' }, async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'livechat-root-home-'))
  t.teardown(() => rmSync(home, { recursive: true, force: true }))
  t.equal(statSync(home).mode & 0o777, 0o700)
  const project = join(home, 'livechat')
  for (const part of ['src', 'packages', 'drizzle', 'scripts', 'patches', 'package.json', 'tsconfig.json', 'test/helpers', 'test/db']) {
    cpSync(join(ROOT, part), join(project, part), { recursive: true })
  }
  // hard links: a copy of node_modules in a second (cpSync where links cannot be made)
  await run('cp', ['-al', join(ROOT, 'node_modules'), join(project, 'node_modules')])
    .catch(() => cpSync(join(ROOT, 'node_modules'), join(project, 'node_modules'), { recursive: true, verbatimSymlinks: true }))
  t.same(closedToPostgres(project), [home], 'user postgres cannot enter the clone')

  const first = await startServer(t, {}, { cwd: project })
  const clusterDir = /Database:\s+embedded Postgres in (\S+)/.exec(first.output())?.[1] ?? ''
  t.teardown(() => rmSync(clusterDir, { recursive: true, force: true }))
  t.ok(clusterDir.startsWith(`${SYSTEM_DIR}/clusters/`), `the banner says where the data went (${clusterDir})`)
  const key = /Site API key:\s+(\S+)/.exec(first.output())?.[1] ?? ''
  const started = await fetchJson(first.api, 'POST', '/api/public/chat/sessions', { headers: { 'x-api-key': key }, body: { userSessionId: 'root-visitor', firstMessage: 'kept?' } })
  t.equal(started.status, 201)
  first.kill('SIGTERM')
  t.equal(await first.exitCode(), 0)

  const second = await startServer(t, {}, { cwd: project })
  t.match(second.output(), clusterDir, 'the same data folder on the next start')
  const resumed = await fetchJson(second.api, 'POST', '/api/public/chat/sessions', { headers: { 'x-api-key': key, 'x-session-token': String(started.body.data?.token) }, body: { userSessionId: 'root-visitor' } })
  t.equal(resumed.status, 200, 'the data was kept')
  second.kill('SIGTERM')
  t.equal(await second.exitCode(), 0)

  // the test runner too: its throwaway cluster, the binaries it runs and the template it
  // migrates (citus-keys clones it; a light file: ~3 s CPU where postgres-driver takes ~5)
  const tests = await run(process.execPath, ['--import', 'tsx', 'scripts/test.ts', 'test/db/citus-keys.test.ts'], {
    cwd: project, env: { ...process.env, TEST_DATABASE_URL: '' }, timeout: 240_000,
  }).then((r) => ({ code: 0, output: r.stdout }), (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code, output: `${err.stdout ?? ''}${err.stderr ?? ''}` }))
  t.equal(tests.code, 0, 'scripts/test.ts runs in the clone')
  // scripts/test.ts runs the compiled copy of each test file (scripts/test-tree.ts)
  t.match(tests.output, /^ok 1 - test\/db\/citus-keys\.test\.js/m)
})
