// The product as the benchmarks run it: buildApp on BENCH_DB_URL, listening on a free loopback port.
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { BENCH_JWT_SECRET } from './lib.js'

const config = loadConfig({ ...process.env, JWT_SECRET: BENCH_JWT_SECRET })
const app = await buildApp({ config, databaseUrl: process.env.BENCH_DB_URL ?? '' })
// memory as the idle bench reads it: after a full GC (the server runs with --expose-gc)
app.get('/__bench/memory', async () => {
  (globalThis as { gc?: () => void }).gc?.()
  const { rss, heapUsed } = process.memoryUsage()
  return { rss, heapUsed }
})
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
console.log(JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 }))
// BENCH_LOOP_STATS=1: on exit, the CPU time, the event loop's delay and the GC pauses over the server's life (stderr)
const loopStats = process.env.BENCH_LOOP_STATS === '1' ? startLoopStats() : undefined
process.on('SIGTERM', () => {
  loopStats?.()
  void app.close().then(() => process.exit(0))
})

function startLoopStats(): () => void {
  const delay = monitorEventLoopDelay({ resolution: 5 })
  delay.enable()
  const pauses: number[] = []
  const gc = new PerformanceObserver((list) => pauses.push(...list.getEntries().map((e) => e.duration)))
  gc.observe({ entryTypes: ['gc'] })
  return () => {
    const ms = (ns: number) => Math.round(ns / 1e4) / 100
    pauses.sort((a, b) => a - b)
    const round = (x: number | undefined) => Math.round((x ?? 0) * 100) / 100
    const cpu = process.cpuUsage()
    console.error(JSON.stringify({
      cpuS: Math.round((cpu.user + cpu.system) / 1e4) / 100,
      loopDelayMs: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
      gc: { count: pauses.length, totalMs: round(pauses.reduce((a, b) => a + b, 0)), p99Ms: round(pauses[Math.floor(pauses.length * 0.99)]), maxMs: round(pauses.at(-1)) },
    }))
  }
}
