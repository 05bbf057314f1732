// requires: redis-server
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis.js'

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
