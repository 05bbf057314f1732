/**
 * `npm test`'s checks before tap: the type-check and the lint run side by side (each one
 * process, one core; cold on this 2-core machine at load 5.5, 40 s one after the other, 24 s
 * together). Each one's output is printed whole when it ends, so the two never interleave.
 * The client's wire types are generated once before both (package.json), so nothing writes
 * them while the lint reads them.
 */
import { spawn } from 'node:child_process'

type Check = { name: string; code: number; output: string }

function run(name: string): Promise<Check> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '-s', name], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.on('close', (code) => resolve({ name, code: code ?? 1, output }))
  })
}

const checks = await Promise.all(['typecheck:types', 'lint'].map(run))
for (const c of checks) {
  if (c.output.trim()) process.stdout.write(c.output.endsWith('\n') ? c.output : `${c.output}\n`)
  console.log(`${c.name}: ${c.code === 0 ? 'passed' : `FAILED (exit ${c.code})`}`)
}
process.exit(checks.every((c) => c.code === 0) ? 0 : 1)
