// The product as the benchmarks run it: buildApp on BENCH_DB_URL, listening on a free loopback port.
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { BENCH_JWT_SECRET } from './lib.js'
import { memoryAfterGc } from './memory-after-gc.js'

const config = loadConfig({ ...process.env, JWT_SECRET: BENCH_JWT_SECRET })
const app = await buildApp({ config, databaseUrl: process.env.BENCH_DB_URL ?? '' })
// memory as the idle bench reads it (the server runs with --expose-gc)
app.get('/__bench/memory', memoryAfterGc)
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
console.log(JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 }))
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
