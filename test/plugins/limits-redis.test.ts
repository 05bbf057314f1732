// requires: redis-server
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { startRedis, startRedisServer } from '../helpers/redis.js'
import { waitFor } from '../helpers/wait.js'

const wrongLogin = { method: 'POST' as const, url: '/api/auth/login', payload: { email: 'nobody@example.com', password: 'wrong-password' } }

t.test('with REDIS_URL, two instances share one login limit', async (t) => {
  const redisUrl = await startRedis(t)
  const env = { REDIS_URL: redisUrl, RATE_LIMIT_LOGIN_PER_MINUTE: '3' }
  const a = await buildTestApp(t, { env })
  const b = await buildTestApp(t, { env })
  const codes = []
  for (const app of [a, b, a]) codes.push((await app.inject(wrongLogin)).statusCode)
  t.same(codes, [401, 401, 401], 'three attempts across both instances are allowed')
  const fourth = await b.inject(wrongLogin)
  t.equal(fourth.statusCode, 429, 'the fourth, on the other instance, is limited')
  t.equal(fourth.json().error.code, 'RATE_LIMITED')
  t.ok(Number(fourth.headers['retry-after']) > 0, 'Retry-After in seconds')
  t.equal(fourth.headers['x-ratelimit-limit'], '3')
})

t.test('without Redis each instance counts on its own', async (t) => {
  const env = { RATE_LIMIT_LOGIN_PER_MINUTE: '3' }
  const a = await buildTestApp(t, { env })
  const b = await buildTestApp(t, { env })
  for (const app of [a, b, a]) await app.inject(wrongLogin)
  t.equal((await b.inject(wrongLogin)).statusCode, 401, 'b has seen only two attempts')
  t.equal((await a.inject(wrongLogin)).statusCode, 401, 'a has seen only three')
  t.equal((await a.inject(wrongLogin)).statusCode, 429)
})

// counted per IP before the key is looked up: cheap, no password hash
const publicRequest = (remoteAddress: string) => ({
  method: 'GET' as const, url: '/api/public/chat/sessions/00000000-0000-4000-8000-000000000000/messages', headers: { 'x-api-key': 'pk_unknown' }, remoteAddress,
})

/** The statuses of these requests, one after the other; 'no answer' for one that took over 2 s (then the rest are not sent). */
async function statuses(sends: [FastifyInstance, string][]): Promise<(number | 'no answer')[]> {
  const codes: (number | 'no answer')[] = []
  for (const [app, ip] of sends) {
    const code = await Promise.race([
      app.inject(publicRequest(ip)).then((r) => r.statusCode),
      new Promise<'no answer'>((resolve) => setTimeout(() => resolve('no answer'), 2000).unref()),
    ])
    codes.push(code)
    if (code === 'no answer') break
  }
  return codes
}

t.test('while Redis is stalled or gone, requests answer at once and each instance counts alone; shared again when it is back', async (t) => {
  const redis = await startRedisServer(t)
  const env = { REDIS_URL: redis.url, RATE_LIMIT_PUBLIC_PER_MINUTE: '3' }
  const a = await buildTestApp(t, { env })
  const b = await buildTestApp(t, { env })
  const perInstance = (ip: string) => statuses([[a, ip], [a, ip], [a, ip], [a, ip], [b, ip]])
  const limitedOnAOnly = [401, 401, 401, 429, 401]

  redis.stall()
  t.same(await perInstance('10.1.0.1'), limitedOnAOnly, 'stalled: A limits its own three, B has its own budget')
  const started = Date.now()
  const more = await statuses(Array.from({ length: 6 }, () => [b, '10.1.0.4'] as [FastifyInstance, string]))
  const tookMs = Date.now() - started
  t.same(more, [401, 401, 401, 429, 429, 429], 'B goes on counting alone')
  t.ok(tookMs < 1000, `once B knows Redis does not answer, its requests do not wait for it (6 took ${tookMs} ms, each waiting would be 1500)`)
  redis.resume()

  await redis.kill()
  t.same(await perInstance('10.1.0.2'), limitedOnAOnly, 'gone: the same')

  await redis.restart()
  const probe = new Redis(redis.url)
  t.teardown(() => probe.disconnect())
  let n = 0
  await waitFor('A counting in Redis again', async () => {
    const ip = `10.2.0.${++n}`
    await a.inject(publicRequest(ip))
    return (await probe.exists(`livechat-rl:pub:${ip}`)) === 1
  })
  await waitFor('B counting in Redis again', async () => {
    const ip = `10.2.0.${++n}`
    await b.inject(publicRequest(ip))
    return (await probe.exists(`livechat-rl:pub:${ip}`)) === 1
  })
  t.same(await statuses([[a, '10.1.0.3'], [b, '10.1.0.3'], [a, '10.1.0.3'], [b, '10.1.0.3']]), [401, 401, 401, 429], 'back: one budget again')
})
