/**
 * Rough cost of one idle widget socket on the server: RSS and heap before and after N
 * sockets connect (opened by a child process, so the clients' memory is not counted),
 * after forced GC. Run: node --expose-gc --import tsx scripts/socket-memory.ts [N]
 */
import { spawn } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildApp } from '../src/app.js'
import { createSite } from '../src/chat/sites.js'
import { startSession } from '../src/chat/sessions.js'
import { loadConfig } from '../src/config.js'
import { startEmbeddedPostgres } from '../src/db/embedded.js'

const count = Number(process.argv[2] ?? 2000)
const MiB = 1024 * 1024

const CLIENT = `
const WebSocket = require('ws')
const urls = JSON.parse(require('fs').readFileSync(0, 'utf8'))
let open = 0
for (const url of urls) {
  const ws = new WebSocket(url)
  ws.once('message', () => { if (++open === urls.length) console.log('ready') })
  ws.on('error', (e) => { console.error(e.message); process.exit(1) })
}`

function settle(): { rss: number; heap: number } {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('run with node --expose-gc')
  for (let i = 0; i < 5; i++) gc()
  const m = process.memoryUsage()
  return { rss: m.rss, heap: m.heapUsed }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'livechat-mem-'))
  chmodSync(dir, 0o755)
  const pg = await startEmbeddedPostgres(dir)
  try {
    const app = await buildApp({ config: loadConfig({ LOG_LEVEL: 'silent', RATE_LIMIT_PUBLIC_PER_MINUTE: '1000000' }), databaseUrl: pg.url })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as AddressInfo
    const { site } = await createSite(app.db, { name: 'memory', origins: ['*'] })
    const urls: string[] = []
    for (let i = 0; i < count; i++) {
      const { session } = await startSession(app.db, site, { firstMessage: 'hello' })
      urls.push(`ws://127.0.0.1:${port}/api/public/chat/sessions/${session.id}/ws?apiKey=${site.apiKey}&token=${app.sessionTokenFor(session.id)}`)
    }
    await pause(500)
    const before = settle()
    const child = spawn(process.execPath, ['-e', CLIENT], { stdio: ['pipe', 'pipe', 'inherit'] })
    child.stdin.end(JSON.stringify(urls))
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve())
      child.on('exit', (code) => reject(new Error(`clients exited with ${code}`)))
    })
    await pause(1000)
    const after = settle()
    console.log(`${count} idle widget sockets (${app.hub.widgetSocketCount} in the hub): ` +
      `RSS +${((after.rss - before.rss) / MiB).toFixed(1)} MiB (${((after.rss - before.rss) / count / 1024).toFixed(1)} KiB each), ` +
      `heap +${((after.heap - before.heap) / MiB).toFixed(1)} MiB (${((after.heap - before.heap) / count / 1024).toFixed(1)} KiB each)`)
    child.kill()
    await app.close()
  } finally {
    await pg.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
