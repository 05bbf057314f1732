/**
 * Property-based fuzzing (fast-check) of every route in the OpenAPI description and of
 * every socket frame type, over real HTTP and WebSockets against real Postgres: generated
 * bodies, queries, path ids and headers (right, wrong and absent credentials, odd origins and
 * content types). The property: no response is a 5xx, every error is in the envelope with
 * no internals, no frame crashes or closes a socket, and nothing is logged as an error.
 *
 * `npm test` runs FUZZ_RUNS requests (default 1200) and a third as many frames per socket;
 * `FUZZ_RUNS=20000 node --import tsx scripts/test.ts test/fuzz.test.ts` is the long run
 * (FUZZ_SEED replays one).
 */
import fc, { type Arbitrary } from 'fast-check'
import t from 'tap'
import WebSocket from 'ws'
import { buildApp } from '../src/app.js'
import { createUser } from '../src/chat/users.js'
import { fileDatabaseUrl, testConfig } from './helpers/app.js'
import { makeSession, makeSite, makeStaff, uniq } from './helpers/fixtures.js'
import { nastyString, objectFor, valueFor, type Schema } from './helpers/fuzz.js'
import { call, serve, type CallOptions } from './helpers/http.js'

const RUNS = Number(process.env.FUZZ_RUNS ?? 1200)
const FRAME_RUNS = Math.ceil(RUNS / 3)
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED)

type Parameter = { in: 'path' | 'query' | 'header'; name: string; schema?: Schema }
type Operation = { method: string; path: string; parameters: Parameter[]; body: Schema | undefined }
type OpenApi = { paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { content?: Record<string, { schema?: Schema }> } }>> }

function operationsOf(spec: OpenApi): Operation[] {
  return Object.entries(spec.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({
    method: method.toUpperCase(),
    path,
    parameters: op.parameters ?? [],
    body: op.requestBody?.content?.['application/json']?.schema,
  })))
}

/** Percent-encoding that takes lone surrogates too (encodeURIComponent throws on them). */
const encode = (v: string) => encodeURIComponent(v.replace(/\p{Cs}/gu, '\ufffd'))
/** Header values a client can put on the wire (http refuses control characters and non-Latin-1). */
const headerSafe = (v: string) => (/^[\t\x20-\x7e]*$/.test(v) ? v : encode(v))

t.test('fuzz: every route and every socket frame type', async (t) => {
  const logged: { level: number; msg: string }[] = []
  const app = await buildApp({
    // limits high enough that the fuzzer reaches the handlers; a bad origin, secret or key is still refused
    config: testConfig({ LOG_LEVEL: 'warn', TELEGRAM_WEBHOOK_URL: 'https://chat.example.com', TELEGRAM_API_URL: 'http://127.0.0.1:9' }),
    databaseUrl: await fileDatabaseUrl(),
    logStream: { write: (line) => logged.push(JSON.parse(line) as { level: number; msg: string }) },
  })
  t.teardown(() => app.close())
  const base = await serve(app)
  const site = await makeSite(app, ['https://shop.example'])
  const victimSite = await makeSite(app)
  const s = await makeSession(app, site, { firstMessage: 'hello' })
  const socketSession = await makeSession(app, site)
  const admin = await makeStaff(app, 'admin')
  const agent = await makeStaff(app, 'agent')
  const victim = await createUser(app.db, { email: `${uniq('victim')}@example.com`, name: 'Victim', password: 'correct horse battery', role: 'agent' })
  const hook = await app.inject({ method: 'POST', url: `/api/admin/sites/${site.id}/webhooks`, headers: { authorization: `Bearer ${admin.token}` }, payload: { url: 'https://93.184.215.14/h' } })
  const hookId = String(hook.json().data.webhook.id)

  const operations = operationsOf(app.swagger() as unknown as OpenApi)
  t.ok(operations.length >= 20, `${operations.length} operations described`)

  // Routes whose success would take the fuzzer's own credentials away act on victims instead.
  const victimIds: Record<string, string[]> = {
    'POST /api/admin/sites/{id}/rotate': [victimSite.id],
    'PATCH /api/admin/sites/{id}': [victimSite.id],
    'PATCH /api/admin/users/{id}': [victim.id],
  }
  const idFor = (op: Operation, name: string): Arbitrary<string> => {
    const known = name === 'webhookId' ? [hookId] : name === 'botId' ? ['123456'] : victimIds[`${op.method} ${op.path}`] ?? [s.id, site.id, agent.id, victimSite.id]
    return fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...known) },
      { weight: 1, arbitrary: fc.uuid() },
      { weight: 2, arbitrary: fc.oneof(nastyString, fc.string({ maxLength: 80 })).map(encode) },
      { weight: 1, arbitrary: fc.constantFrom('%E0%A4%A', '..%2F..%2F', '%00', 'a'.repeat(300)) },
    )
  }
  const optional = (values: Arbitrary<string>) => fc.option(values, { freq: 3 })
  const credentials = (op: Operation) => fc.record({
    'x-api-key': fc.oneof({ weight: 5, arbitrary: fc.constant(site.apiKey) }, fc.string({ maxLength: 40 }), nastyString, fc.constant('k'.repeat(5000))),
    'x-session-token': optional(fc.oneof({ weight: 3, arbitrary: fc.constant(s.token) }, nastyString)),
    'x-api-secret': optional(fc.oneof({ weight: 2, arbitrary: fc.constant(site.apiSecret) }, nastyString)),
    authorization: op.path === '/api/auth/logout'
      ? fc.constant('fresh')
      : optional(fc.oneof({ weight: 4, arbitrary: fc.constant(`Bearer ${admin.token}`) }, fc.constant(`Bearer ${agent.token}`), nastyString.map((v) => `Bearer ${v}`), nastyString)),
    origin: optional(fc.constantFrom('https://shop.example', 'https://evil.example', 'null')),
    'x-forwarded-for': optional(fc.constantFrom('1.2.3.4', '10.0.0.1, 127.0.0.1', 'garbage')),
  })
  const bodyFor = (op: Operation): Arbitrary<{ body?: string; contentType?: string }> => {
    if (!op.body) return fc.constant({})
    const json = objectFor(op.body).map((v) => JSON.stringify(v))
    return fc.record({
      body: fc.oneof({ weight: 6, arbitrary: json }, valueFor(op.body).map((v) => JSON.stringify(v) ?? 'null'), fc.string({ maxLength: 60 }), nastyString),
      contentType: fc.oneof({ weight: 8, arbitrary: fc.constant('application/json') }, fc.constantFrom('text/plain', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded')),
    }, { requiredKeys: ['body'] })
  }
  const queryFor = (op: Operation) => {
    const params = op.parameters.filter((p) => p.in === 'query')
    return fc.tuple(
      fc.record(Object.fromEntries(params.map((p) => [p.name, valueFor(p.schema)])), { requiredKeys: [] }),
      fc.option(fc.constantFrom('&since=%E0%A4%A', '&limit=1&limit=2', '&after=1e400', '&unknown=1', '&after=99999999999'), { freq: 4 }),
    ).map(([values, raw]) => {
      const q = new URLSearchParams()
      for (const [k, v] of Object.entries(values)) {
        for (const item of Array.isArray(v) ? v : [v]) q.append(k, typeof item === 'string' ? item : JSON.stringify(item) ?? '')
      }
      const text = q.toString() + (raw ?? '')
      return text ? `?${text}` : ''
    })
  }
  const requestFor = (op: Operation) => fc.record({
    path: fc.tuple(...(op.path.match(/\{(\w+)\}/g) ?? []).map((m) => idFor(op, m.slice(1, -1)))).map((ids) => {
      let i = 0
      return op.path.replace(/\{(\w+)\}/g, () => ids[i++] ?? '')
    }),
    query: queryFor(op),
    headers: credentials(op),
    payload: bodyFor(op),
  }).map((r) => ({ op, ...r }))

  const requests = fc.constantFrom(...operations).chain(requestFor)
  let answered = 0
  const statuses = new Map<number, number>()
  await fc.assert(fc.asyncProperty(requests, async ({ op, path, query, headers, payload }) => {
    const sent: Record<string, string> = {}
    for (const [k, v] of Object.entries(headers)) if (v !== null) sent[k] = headerSafe(v)
    if (sent.authorization === 'fresh') sent.authorization = `Bearer ${app.issueStaffToken(victim)}`
    if (payload.contentType) sent['content-type'] = payload.contentType
    const opts: CallOptions = { method: op.method, headers: sent, body: payload.body }
    const res = await call(base, path + query, opts)
    answered++
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
    const what = `${op.method} ${path}${query} ${JSON.stringify(sent).slice(0, 200)} ${String(payload.body).slice(0, 200)} → ${res.status} ${res.text.slice(0, 200)}`
    if (res.status >= 500) throw new Error(`5xx: ${what}`)
    if (res.status >= 400) {
      const { body } = res
      if (body.success !== false || typeof body.error?.code !== 'string' || typeof body.error.message !== 'string') throw new Error(`not in the envelope: ${what}`)
      if (/at .*\.ts:\d+|select .* from|insert into|postgres/i.test(res.text)) throw new Error(`internals in the body: ${what}`)
    } else if (/json/.test(String(res.headers['content-type'])) && typeof res.body.success !== 'boolean') {
      throw new Error(`a JSON answer without success: ${what}`)
    }
  }), { numRuns: RUNS, seed: SEED, endOnFailure: true })
  t.equal(answered, RUNS, `${RUNS} requests over ${operations.length} operations; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`)

  // Frames: the widget's socket and the dashboard's, each followed by a ping whose pong
  // proves the socket is still there and has answered the frame first.
  const wsBase = base.replace('http', 'ws')
  const sockets = {
    widget: `${wsBase}/api/public/chat/sessions/${socketSession.id}/ws?apiKey=${site.apiKey}&token=${socketSession.token}`,
    dashboard: `${wsBase}/api/chat/ws?token=${encodeURIComponent(admin.token)}`,
  }
  // (a frame above the 64 KiB payload limit is closed with 1009 by the WebSocket layer itself)
  const frames: Arbitrary<string | Uint8Array> = fc.oneof(
    { weight: 6, arbitrary: objectFor({ properties: {
      type: { enum: ['message', 'ping', 'auth', 'typing', 'read', 'subscribe'] },
      text: { type: 'string', maxLength: 4000 },
      clientMessageId: { type: 'string', maxLength: 64 },
      token: { type: 'string' },
    } }).map((v) => JSON.stringify(v)) },
    fc.string({ unit: 'binary', maxLength: 200 }),
    nastyString,
    fc.uint8Array({ maxLength: 64 }),
  ).filter((frame) => Buffer.byteLength(frame) < 60_000)
  for (const [kind, url] of Object.entries(sockets)) {
    const ws = new WebSocket(url, { headers: { origin: 'https://shop.example' } })
    const received: { type?: string; error?: { code?: string; message?: string } }[] = []
    let closed: { code: number; reason: string } | undefined
    let wake: () => void = () => {}
    ws.on('message', (data) => {
      received.push(JSON.parse(data.toString()) as (typeof received)[number])
      wake()
    })
    ws.on('close', (code, reason) => {
      closed = { code, reason: reason.toString() }
      wake()
    })
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    if (kind === 'dashboard') await new Promise((r) => setTimeout(r, 50))
    await fc.assert(fc.asyncProperty(frames, async (frame) => {
      const from = received.length
      ws.send(frame)
      ws.send('{"type":"ping"}')
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${kind}: no pong after ${JSON.stringify(String(frame)).slice(0, 200)}`)), 10_000)
        wake = () => {
          if (closed || received.slice(from).some((f) => f.type === 'pong')) {
            clearTimeout(timer)
            resolve()
          }
        }
        wake()
      })
      if (closed) throw new Error(`${kind} socket closed (${closed.code} ${closed.reason}) after ${JSON.stringify(String(frame)).slice(0, 200)}`)
      for (const f of received.slice(from)) {
        if (typeof f.type !== 'string') throw new Error(`${kind}: a frame without a type`)
        if (f.type === 'error' && (typeof f.error?.code !== 'string' || typeof f.error.message !== 'string' || f.error.code === 'INTERNAL')) {
          throw new Error(`${kind}: bad error frame ${JSON.stringify(f)} after ${JSON.stringify(String(frame)).slice(0, 200)}`)
        }
      }
    }), { numRuns: FRAME_RUNS, seed: SEED, endOnFailure: true })
    t.notOk(closed, `${kind} socket took ${FRAME_RUNS} generated frames and is still open`)
    ws.terminate()
  }

  t.equal((await call(base, '/healthz')).status, 200, 'the server still answers')
  const errors = logged.filter((l) => l.level >= 50)
  t.same(errors.map((l) => l.msg), [], 'nothing was logged as an error')
})
