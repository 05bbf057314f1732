/**
 * Shared plumbing for the benchmarks: one real Postgres per run (embedded, fsync on, in a
 * temporary folder), servers in child processes so the load generator does not share their
 * event loop, and a table printer that shows every figure next to its same-run baseline.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import { productNodeFlags } from '../scripts/node-flags.js'
import { connectDb, type DbHandle } from '../src/db/client.js'
import { existingOrTemporaryPostgres } from '../src/db/embedded.js'
import { runMigrations } from '../src/db/migrate.js'
import { secretBoxFor } from '../src/chat/secret-box.js'
import { createSite, type Site } from '../src/chat/sites.js'
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

/** The site a bench's traffic goes to: any origin, its secrets sealed as the bench server expects. */
export async function createBenchSite(db: BenchDb): Promise<Site> {
  const { site } = await createSite(db.handle.db, benchSecretBox, { name: 'bench', origins: ['*'] })
  return site
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
  // the product's own Node flags (npm start's), for the baselines too: one runtime for both sides
  const child = spawn(process.execPath, ['--expose-gc', ...productNodeFlags(), ...extraArgs, '--import', 'tsx', path], {
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  // a bench that fails exits at once; its servers must not outlive it
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)
  child.once('exit', () => process.off('exit', killOnExit))
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

/**
 * A target is a ratio to the same-run baseline (`ratio`: figure / baseline) or an absolute
 * bound on the figure (`value`); "met" is computed from it, never written by hand.
 */
export type Target = { op: '≥' | '≤'; ratio: number } | { op: '≥' | '≤'; value: number; unit?: string }

export type Row = {
  name: string
  value: number
  /** the same work done the barest correct way, in the same run; absent where none applies */
  baseline?: number
  baselineName?: string
  unit: string
  target?: Target
}

export type ResultRow = Omit<Row, 'target'> & { ratio: number | null; target: string | null; met: boolean | null }

const fmt = (n: number) => (!Number.isFinite(n) ? String(n) : Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2))

export const targetText = (t: Target | undefined) =>
  t === undefined ? null : 'ratio' in t ? `${t.op} ${t.ratio}×` : `${t.op} ${t.value}${t.unit ? ` ${t.unit}` : ''}`

/** Whether the row meets its target; null when it has none. */
export function met(row: Row): boolean | null {
  const t = row.target
  if (!t) return null
  const ratio = row.baseline ? row.value / row.baseline : NaN
  const x = 'ratio' in t ? ratio : row.value
  const bound = 'ratio' in t ? t.ratio : t.value
  if (!Number.isFinite(x)) return false
  return t.op === '≥' ? x >= bound : x <= bound
}

export function resultRow(r: Row): ResultRow {
  const ratio = r.baseline ? r.value / r.baseline : null
  return { ...r, ratio, target: targetText(r.target), met: met(r) }
}

/** Prints a markdown table: figure, baseline, ratio (figure / baseline), target, met. */
export function printTable(title: string, rows: ResultRow[], note = ''): void {
  console.log(`\n### ${title}\n`)
  console.log('| measure | this server | baseline | ratio | target | met |')
  console.log('| --- | --- | --- | --- | --- | --- |')
  for (const r of rows) {
    const baseline = r.baseline === undefined ? '—' : `${fmt(r.baseline)} ${r.unit}${r.baselineName ? ` (${r.baselineName})` : ''}`
    const met = r.met === null ? '—' : r.met ? 'yes' : '**no**'
    console.log(`| ${r.name} | ${Number.isFinite(r.value) ? `${fmt(r.value)} ${r.unit}` : 'not measured'} | ${baseline} | ${r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`} | ${r.target ?? '—'} | ${met} |`)
  }
  if (note) console.log(`\n${note}`)
}

/** A bench that could not measure what it claims (a failed request, a missing frame, a fault that did not happen). */
export class BenchFailure extends Error {}

/** Stops the bench: it exits non-zero with this message. */
export function fail(message: string): never {
  throw new BenchFailure(message)
}

export type BenchOutput = { title: string; rows: Row[]; note?: string }

const RESULTS_DIR = fileURLToPath(new URL('results/', import.meta.url))

/**
 * Runs one bench: prints its table and writes bench/results/<name>.json (what
 * `npm run bench:report` puts in the README), with the machine's load before and after, as
 * this machine is shared. Exits non-zero, with the reason, when the bench fails.
 */
export async function runBench(name: string, body: () => Promise<BenchOutput>): Promise<void> {
  const loadBefore = loadavg()
  // stopped from outside (a `timeout`, Ctrl-C): exit, so that the servers it started are killed too
  process.once('SIGTERM', () => process.exit(143))
  process.once('SIGINT', () => process.exit(130))
  try {
    const out = await body()
    const rows = out.rows.map(resultRow)
    printTable(out.title, rows, out.note)
    const result = {
      bench: name,
      title: out.title,
      note: out.note ?? null,
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, loadavg1mBefore: loadBefore[0], loadavg1mAfter: loadavg()[0] },
      rows,
    }
    if (process.env.BENCH_NO_RESULTS !== '1') {
      mkdirSync(RESULTS_DIR, { recursive: true })
      writeFileSync(`${RESULTS_DIR}${name}.json`, JSON.stringify(result, null, 2) + '\n')
    }
    console.log(`\nload average (1 min) ${loadBefore[0]?.toFixed(1)} before, ${loadavg()[0]?.toFixed(1)} after, ${cpus().length} cores`)
    process.exit(0)
  } catch (err) {
    console.error(`\nBENCH FAILED (${name}): ${err instanceof BenchFailure ? err.message : (err as Error).stack ?? String(err)}`)
    process.exit(1)
  }
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** The set-up acts as the site's own back end (its secret): it may resume any visitor id. */
export const SETUP_OWNS = () => true
