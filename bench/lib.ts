/**
 * Shared plumbing for the benchmarks: one real Postgres per run (embedded, fsync on, in a
 * temporary folder), servers in child processes so the load generator does not share their
 * event loop, and a table printer that shows every figure next to its same-run baseline.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import { connectDb, type DbHandle } from '../src/db/client.js'
import { existingOrTemporaryPostgres } from '../src/db/embedded.js'
import { runMigrations } from '../src/db/migrate.js'
import { secretBoxFor } from '../src/chat/secret-box.js'
import type { Publisher } from '../src/realtime/bus.js'

/** The JWT secret the benchmarked server runs with, and so the key its secrets are sealed with. */
export const BENCH_JWT_SECRET = 'bench-secret-bench-secret-bench'
export const benchSecretBox = secretBoxFor({ jwtSecret: BENCH_JWT_SECRET })

/** For the set-up writes a bench makes before any server runs: nobody listens for their events yet. */
export const SETUP_EVENTS: Publisher = { publish: () => {} }

export type BenchDb = { url: string; handle: DbHandle; stop: () => Promise<void> }

/** A migrated database on a fresh embedded cluster (or BENCH_DATABASE_URL's server). */
export async function startBenchDb(): Promise<BenchDb> {
  const server = await existingOrTemporaryPostgres(process.env.BENCH_DATABASE_URL, 'livechat-bench-')
  const admin = postgres(server.url, { max: 1, onnotice: () => {} })
  const name = `bench_${Date.now()}`
  await admin.unsafe(`create database ${name}`)
  await admin.end()
  const url = new URL(server.url)
  url.pathname = `/${name}`
  const handle = connectDb(url.toString(), { poolSize: 4 })
  await runMigrations(handle.db)
  return {
    url: url.toString(),
    handle,
    stop: async () => {
      await handle.close()
      await server.stop()
    },
  }
}

export const HIGH_LIMITS = {
  RATE_LIMIT_PUBLIC_PER_MINUTE: '100000000',
  RATE_LIMIT_SENDS_PER_MINUTE: '100000000',
  RATE_LIMIT_SESSIONS_PER_MINUTE: '100000000',
  RATE_LIMIT_LOGIN_PER_MINUTE: '100000000',
  RATE_LIMIT_ADMIN_PER_MINUTE: '100000000',
  RATE_LIMIT_LOGIN_IP_PER_MINUTE: '100000000',
  // every benchmark client connects from loopback: one "IP" holding thousands of sockets
  WS_MAX_PER_IP: '1000000',
  WS_MAX_PER_SESSION: '1000000',
}

export type Server = { port: number; child: ChildProcess; stop: () => Promise<void> }

/** Runs bench/<script> in a child process; it prints `{"port":N}` once listening. */
export async function startServer(script: string, env: Record<string, string>): Promise<Server> {
  const path = fileURLToPath(new URL(script, import.meta.url))
  // BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=prof" profiles the server under load
  const extraArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)
  const child = spawn(process.execPath, ['--expose-gc', ...extraArgs, '--import', 'tsx', path], {
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const m = /\{"port":(\d+)\}/.exec(out)
      if (m) resolve(Number(m[1]))
    })
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)))
  })
  return {
    port,
    child,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    }),
  }
}

export type Row = { name: string; value: number; baseline: number; unit: string; target?: string; higherIsBetter?: boolean }

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2))

/** Prints a markdown table: figure, baseline, ratio (figure / baseline), target. */
export function printTable(title: string, rows: Row[], note = ''): void {
  console.log(`\n### ${title}\n`)
  console.log('| measure | this server | baseline | ratio | target |')
  console.log('| --- | --- | --- | --- | --- |')
  for (const r of rows) {
    const ratio = r.baseline > 0 ? r.value / r.baseline : NaN
    console.log(`| ${r.name} | ${fmt(r.value)} ${r.unit} | ${fmt(r.baseline)} ${r.unit} | ${ratio.toFixed(2)}× | ${r.target ?? ''} |`)
  }
  if (note) console.log(`\n${note}`)
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** The set-up acts as the site's own back end (its secret): it may resume any visitor id. */
export const SETUP_OWNS = () => true
