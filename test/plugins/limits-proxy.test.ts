import { createServer, request, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { buildTestApp } from '../helpers/app.js'
import { makeSite, uniq } from '../helpers/fixtures.js'
import { call, serve } from '../helpers/http.js'

type Forwarding = 'append' | 'overwrite'

/**
 * A reverse proxy in front of the app, as nginx runs it: `overwrite` is the shipped config
 * (X-Forwarded-For: $remote_addr), `append` the old one ($proxy_add_x_forwarded_for), which
 * keeps whatever the client sent and adds the address it saw.
 */
async function proxy(t: { teardown: (fn: () => unknown) => void }, target: string, forwarding: Forwarding): Promise<string> {
  const server = createServer((req: IncomingMessage, res) => {
    const seen = req.socket.remoteAddress ?? ''
    const sent = req.headers['x-forwarded-for']
    const xff = forwarding === 'append' && sent ? `${String(sent)}, ${seen}` : seen
    const upstream = request(target + (req.url ?? '/'), { method: req.method, headers: { ...req.headers, 'x-forwarded-for': xff } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    upstream.on('error', () => res.writeHead(502).end())
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const spoofed = () => ({ 'x-forwarded-for': `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.7` })

for (const [trust, forwarding] of [['1', 'overwrite'], ['1', 'append'], ['true', 'append'], ['127.0.0.1', 'append'], ['127.0.0.1/32', 'overwrite']] as const) {
  t.test(`TRUST_PROXY=${trust} behind a proxy that ${forwarding}s X-Forwarded-For: a made-up header never buys a fresh budget`, async (t) => {
    const app = await buildTestApp(t, { env: { TRUST_PROXY: trust, RATE_LIMIT_PUBLIC_PER_MINUTE: '3' } })
    const base = await proxy(t, await serve(app), forwarding)
    const site = await makeSite(app)
    // clients connect from addresses no TRUST_PROXY here names (the proxy is 127.0.0.1)
    const start = (from = '127.0.0.9') => call(base, '/api/public/chat/sessions', { headers: { 'x-api-key': site.apiKey, ...spoofed() }, body: {}, from })
    for (let i = 0; i < 3; i++) t.equal((await start()).status, 201)
    const fourth = await start()
    t.equal(fourth.status, 429, 'the fourth request of this client is limited, whatever it claims')
    t.equal(fourth.body.error?.code, 'RATE_LIMITED')
    t.equal((await start('127.0.0.2')).status, 201, 'another client behind the same proxy is counted on its own')
  })
}

t.test('without TRUST_PROXY the header is ignored: every client behind a proxy is the proxy', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_PUBLIC_PER_MINUTE: '2' } })
  const base = await serve(app)
  const site = await makeSite(app)
  for (let i = 0; i < 2; i++) t.equal((await call(base, '/api/public/chat/sessions', { headers: { 'x-api-key': site.apiKey, ...spoofed() }, body: {} })).status, 201)
  t.equal((await call(base, '/api/public/chat/sessions', { headers: { 'x-api-key': site.apiKey, ...spoofed() }, body: {} })).status, 429)
})

t.test('TRUST_PROXY takes a hop count or proxy addresses, never "every hop"', async (t) => {
  const trust = (value: string) => loadConfig({ TRUST_PROXY: value }).trustProxy
  t.equal(trust('1'), 1)
  t.equal(trust('2'), 2)
  t.equal(trust('true'), 1, 'true means the one proxy in front')
  t.equal(trust('false'), false)
  t.equal(trust('0'), false)
  t.same(trust('10.0.0.5, 10.1.0.0/16,::1'), ['10.0.0.5', '10.1.0.0/16', '::1'])
  // a /0 names every address: every hop trusted under another name
  for (const wrong of ['everything', '10.0.0.0/40', '300.1.1.1', `proxy-${uniq()}`, '0.0.0.0/0', '10.0.0.5, ::/0']) {
    t.throws(() => trust(wrong), { message: /TRUST_PROXY must be a hop count/ }, wrong)
  }
})
