import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { IncomingMessage } from 'node:http'
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { makeSession, makeSite } from '../helpers/fixtures.js'
import { listen, openSocket, widgetUrl } from '../helpers/sockets.js'
import { waitFor } from '../helpers/wait.js'

// a full GC on demand, so that "nothing holds it any more" can be checked (bench/idle.ts measures the cost)
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

t.test('an open widget socket keeps nothing of its upgrade request, and still works', async (t) => {
  const app = await buildTestApp(t)
  const base = await listen(app)
  const s = await makeSession(app, await makeSite(app))
  const upgrades: WeakRef<IncomingMessage>[] = []
  app.server.on('upgrade', (req: IncomingMessage) => upgrades.push(new WeakRef(req)))
  const socket = await openSocket(t, widgetUrl(base, s, { after: 0 }))
  await socket.waitUntil('session frame', () => socket.ofType('session').length > 0)
  t.equal(upgrades.length, 1)
  // a WeakRef's target stays for the rest of the job that made it: collect again on later turns
  await waitFor('the upgrade request to be collected', async () => {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
    return upgrades[0]?.deref() === undefined
  }, 5_000)
  t.pass('the request, its headers and the Fastify request and reply are collected while the socket is open')
  socket.send({ type: 'ping' })
  await socket.waitUntil('pong', () => socket.ofType('pong').length > 0)
  socket.send({ type: 'message', text: 'still here', clientMessageId: 'c1' })
  await socket.waitForSeq(1)
  t.match(socket.ofType('message')[0]?.message, { seq: 1, sender: 'visitor', text: 'still here' })
  t.equal(app.hub.widgetSocketCount, 1)
})
