import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { build } from 'esbuild'
import t from 'tap'
import { clientWireTypes } from '../../scripts/client-types.js'
import { restartableServer } from '../helpers/chat-server.js'
import { makeSite } from '../helpers/fixtures.js'

const pkg = JSON.parse(readFileSync('packages/client/package.json', 'utf8'))

t.test('the package is ESM with a version and no runtime or peer dependencies', async (t) => {
  t.equal(pkg.type, 'module')
  t.match(pkg.version, /^\d+\.\d+\.\d+/)
  t.same([pkg.dependencies, pkg.peerDependencies, pkg.optionalDependencies], [undefined, undefined, undefined])
  t.match(pkg.engines.node, '>=20')
  const root = JSON.parse(readFileSync('package.json', 'utf8'))
  t.ok(root.workspaces.includes('packages/*'), 'an npm workspace of the repository')
})

t.test('what the SDK returns is typed from the server\'s schemas (one source of truth), not by hand', async (t) => {
  const wire = clientWireTypes()
  // the answers of start, send, poll, upload, rate and availability, and the bodies the SDK sends
  for (const name of ['Message', 'PublicSession', 'Rating', 'Attachment', 'StartSessionData', 'SendMessageData', 'PollData', 'UploadData', 'RatingData', 'AvailabilityData', 'RatingBody', 'ReadBody']) {
    t.match(wire, new RegExp(`^export type ${name} = \\{`, 'm'), `wire.ts has ${name}`)
  }
  t.match(wire, /rating: Rating \| null/, 'the session\'s rating is the Rating type')
  const types = readFileSync('packages/client/src/types.ts', 'utf8')
  for (const name of ['Message', 'Session', 'Attachment', 'Rating', 'Availability']) {
    t.notMatch(types, new RegExp(`export type ${name} = \\{`), `${name} is not written out by hand in types.ts`)
  }
})

t.test('compiled on its own it imports nothing and runs in plain Node (no loader, no global WebSocket): start, send, poll', async (t) => {
  const out = await build({ entryPoints: ['packages/client/src/index.ts'], bundle: true, format: 'esm', platform: 'neutral', write: false, packages: 'external', logLevel: 'silent' })
  const code = out.outputFiles[0]?.text ?? ''
  t.notMatch(code, /^\s*import\s/m, 'no import of anything outside the package')
  const server = await restartableServer(t)
  const site = await makeSite(server.app)
  const dir = mkdtempSync(join(tmpdir(), 'sdk-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'client.mjs'), code)
  writeFileSync(join(dir, 'main.mjs'), `
    import { createChatClient } from './client.mjs'
    const chat = createChatClient({ baseUrl: ${JSON.stringify(server.origin)}, apiKey: ${JSON.stringify(site.apiKey)}, storage: 'memory' })
    const seen = []
    chat.on('message', (m) => seen.push(m.text))
    await chat.start({ name: 'Node' })
    await chat.send('from a back end')
    chat.close()
    console.log(JSON.stringify({ seen, connection: typeof WebSocket }))`)
  const { stdout } = await promisify(execFile)(process.execPath, [join(dir, 'main.mjs')], { timeout: 60_000 })
  t.same(JSON.parse(stdout), { seen: ['from a back end'], connection: 'undefined' })
})

t.test('npm install leaves the package importable by its name: the prepare step builds the entry its exports name', async (t) => {
  // A clean clone has no dist/ (not committed); `npm install` runs the root's prepare script,
  // and `import '@livechat/client'` (what the package README shows) must then work.
  rmSync('packages/client/dist', { recursive: true, force: true })
  await promisify(execFile)('npm', ['run', '-s', 'prepare'], { timeout: 120_000 })
  const entry = pkg.exports['.']
  for (const file of [entry.import, entry.types]) t.ok(existsSync(join('packages/client', file)), `${file} is built`)
  // imported by its name through a link to this folder's package, as npm links a workspace: the
  // project's own node_modules link would reach the project's build when this runs in npm test's copy
  const consumer = mkdtempSync(join(tmpdir(), 'sdk-consumer-'))
  t.teardown(() => rmSync(consumer, { recursive: true, force: true }))
  mkdirSync(join(consumer, 'node_modules', '@livechat'), { recursive: true })
  symlinkSync(resolve('packages/client'), join(consumer, 'node_modules', '@livechat', 'client'))
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e',
    "const m = await import('@livechat/client'); console.log(typeof m.createChatClient, import.meta.resolve('@livechat/client'))"],
  { cwd: consumer, timeout: 60_000 })
  const [kind, resolved = ''] = stdout.trim().split(' ')
  t.equal(kind, 'function')
  t.equal(realpathSync(fileURLToPath(resolved)), realpathSync(join('packages/client', entry.import)), 'the entry just built')
})
