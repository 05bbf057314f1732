import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { loadConfig } from '../src/config.js'
import { freshDatabase } from './helpers/app.js'
import { ROOT, startServer } from './helpers/server.js'

/** What the runtime image holds of the project besides node_modules: the build stage's `cp -r … /out/` list. */
function imageFiles(): string[] {
  const list = /cp -r ([^\n]+?) \/out\//.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1]
  return list?.split(/\s+/) ?? []
}

t.test('the Docker image holds every file the server needs: it starts from them and serves the widget and the dashboard', async (t) => {
  const app = mkdtempSync(join(tmpdir(), 'livechat-image-'))
  t.teardown(() => rmSync(app, { recursive: true, force: true }))
  const files = imageFiles()
  t.ok(files.includes('src'), `the copy list is found (${files.join(' ')})`)
  for (const file of files) cpSync(join(ROOT, file), join(app, file), { recursive: true })
  // the image's own npm ci installs these
  symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'))

  const server = await startServer(t, { DATABASE_URL: await freshDatabase(), JWT_SECRET: 'docker-image-test-secret' }, { cwd: app })
  for (const path of ['/widget.js', '/admin', '/healthz']) t.equal((await fetch(`${server.api}${path}`)).status, 200, path)
  server.kill('SIGTERM')
  t.equal(await server.exitCode(), 0)
})

t.test('the shipped nginx config lets the largest attachment through (its body limit is above ATTACHMENT_MAX_BYTES)', async (t) => {
  const nginx = readFileSync(join(ROOT, 'deploy', 'nginx.conf'), 'utf8')
  const [, size = '', unit = ''] = /^\s*client_max_body_size\s+(\d+)([kmg]?);/im.exec(nginx) ?? []
  const bytes = Number(size) * 1024 ** ' kmg'.indexOf(unit.toLowerCase() || ' ')
  // the multipart framing around the file: its boundary and part headers
  const framing = 16 * 1024
  t.ok(bytes >= loadConfig({}).attachments.maxBytes + framing, `client_max_body_size ${size}${unit} (${bytes} bytes)`)
})

t.test('the shipped nginx config limits connections per client address, room for an office behind one, and its timeouts never cut a socket the server pings', async (t) => {
  const nginx = readFileSync(join(ROOT, 'deploy', 'nginx.conf'), 'utf8')
  const directive = (name: string) => new RegExp(`^\\s*${name}\\s+([^;]+);`, 'im').exec(nginx)?.[1]?.trim() ?? ''
  /** nginx's time units as used here: plain seconds, `s` or `m` */
  const seconds = (value: string) => Number.parseInt(value, 10) * (value.endsWith('m') ? 60 : 1)
  const [, zone = ''] = /^\s*limit_conn_zone\s+\$binary_remote_addr\s+zone=(\w+):\d+[km];/im.exec(nginx) ?? []
  t.ok(zone, 'a zone keyed by the client address')
  const [name = '', count = ''] = directive('limit_conn').split(/\s+/)
  t.equal(name || '(no limit_conn)', zone, 'the limit counts in that zone')
  // an office of fifty behind one address: a socket and a few HTTP connections each
  t.ok(Number(count) >= 200, `limit_conn ${count}`)
  const heartbeatS = loadConfig({}).wsHeartbeatMs / 1000
  for (const timeout of ['client_header_timeout', 'client_body_timeout']) t.ok(seconds(directive(timeout)) > 0 && seconds(directive(timeout)) <= 60, `${timeout} ${directive(timeout)}`)
  // a socket is cut by whichever comes first: send_timeout only counts while a write to the client is stuck, the read timeout while nothing comes from the server
  for (const timeout of ['send_timeout', 'proxy_read_timeout']) t.ok(seconds(directive(timeout)) > 2 * heartbeatS, `${timeout} ${directive(timeout)} > two pings (${2 * heartbeatS} s)`)
})
