import { spawn } from 'node:child_process'
import { once } from 'node:events'
import t from 'tap'
import { fileDatabaseUrl } from '../helpers/app.js'
import { TestSocket } from '../helpers/sockets.js'
import { freePort } from '../../src/db/embedded.js'

const STARTUP_MS = 30_000

t.test('SIGTERM closes open sockets with 1012 before the process exits 0', async (t) => {
  const port = await freePort()
  const apiKey = 'pk_shutdown_test_key'
  const server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { ...process.env, DATABASE_URL: await fileDatabaseUrl(), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent', SITE_API_KEY: apiKey, NODE_ENV: 'test' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = once(server, 'exit')
  t.teardown(() => {
    if (server.exitCode === null) server.kill('SIGKILL')
  })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start')), STARTUP_MS)
    server.stdout.on('data', (d: Buffer) => {
      if (!d.toString().includes('Live chat is running')) return
      clearTimeout(timer)
      resolve()
    })
  })
  const res = await fetch(`http://127.0.0.1:${port}/api/public/chat/sessions`, {
    method: 'POST', headers: { 'x-api-key': apiKey, 'content-type': 'application/json' }, body: JSON.stringify({ firstMessage: 'hi' }),
  })
  const { sessionId, token } = (await res.json() as { data: { sessionId: string; token: string } }).data
  const socket = await TestSocket.open(`ws://127.0.0.1:${port}/api/public/chat/sessions/${sessionId}/ws?apiKey=${apiKey}&token=${token}`)
  t.teardown(() => socket.close())
  await socket.waitForSeq(1)
  server.kill('SIGTERM')
  const closed = await socket.closed
  t.equal(closed.code, 1012)
  t.match(closed.reason, /restarting/)
  const [code] = await exited
  t.equal(code, 0)
})
