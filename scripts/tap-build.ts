/**
 * tap compiles its test class from the plugin list (package.json "tap".plugin) and rebuilds
 * it when the list changed, which is on the first run after every `npm install` (a fresh
 * @tapjs/test is built with the default plugins). But the run that rebuilds still starts
 * each of its test processes with the old plugins' loaders: @tapjs/typescript's ts-node,
 * which recompiles every imported .ts file and doubles a test process's CPU (health.test.ts:
 * 7.3 CPU s instead of 3.2). `npm test` builds first when the built class is stale.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const SIGNATURE = /export const signature = `([^`]*)`/

/** Whether the built test class (its source text) lacks a plugin the config lists or has one it excludes ("!name"). */
export function isStale(configPlugins: string[], builtClass: string): boolean {
  const built = SIGNATURE.exec(builtClass)?.[1]?.split('\n').map((p) => p.trim()) ?? []
  return configPlugins.some((p) => (p.startsWith('!') ? built.includes(p.slice(1)) : !built.includes(p)))
}

/** Runs `tap build` when the installed test class does not match package.json's plugin list. */
export async function buildTapIfStale(root: string): Promise<void> {
  const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { tap?: { plugin?: string[] } }
  const builtClass = readFileSync(fileURLToPath(import.meta.resolve('@tapjs/test/test-built')), 'utf8')
  if (!isStale(pkg.tap?.plugin ?? [], builtClass)) return
  console.error('tap\'s test class does not match package.json "tap".plugin: tap build')
  await new Promise<void>((resolve, reject) => {
    spawn('npx', ['tap', 'build'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] })
      .on('error', reject)
      .on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tap build exited with ${code}`))))
  })
}
