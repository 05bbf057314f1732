// The product as the benchmarks run it: buildApp on BENCH_DB_URL, listening on a free loopback port.
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
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
  // by kind (minor = scavenge, major = mark-compact, incremental, weakcb): count, total and longest ms
  const kinds: Record<string, { count: number; totalMs: number; maxMs: number }> = {}
  const kindName = (kind: number | undefined) => ({ 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' } as Record<number, string>)[kind ?? 0] ?? String(kind)
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      pauses.push(e.duration)
      const k = (kinds[kindName((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind)] ??= { count: 0, totalMs: 0, maxMs: 0 })
      k.count++
      k.totalMs = Math.round((k.totalMs + e.duration) * 100) / 100
      k.maxMs = Math.max(k.maxMs, Math.round(e.duration * 100) / 100)
    }
  })
  gc.observe({ entryTypes: ['gc'] })
  return () => {
    const ms = (ns: number) => Math.round(ns / 1e4) / 100
    pauses.sort((a, b) => a - b)
    const round = (x: number | undefined) => Math.round((x ?? 0) * 100) / 100
    const cpu = process.cpuUsage()
    console.error(JSON.stringify({
      cpuS: Math.round((cpu.user + cpu.system) / 1e4) / 100,
      loopDelayMs: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
      gc: { count: pauses.length, totalMs: round(pauses.reduce((a, b) => a + b, 0)), p99Ms: round(pauses[Math.floor(pauses.length * 0.99)]), maxMs: round(pauses.at(-1)), kinds },
    }))
  }
}
