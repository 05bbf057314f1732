import { readFileSync } from 'node:fs'

/**
 * The Node flags the product runs with, as `npm start` gives them (package.json's start
 * script, the one place they are written). The Docker image's CMD repeats them (a test holds
 * the two equal) and the benchmarks start the product with them, so a figure measures the
 * server as it runs in production.
 */
export function productNodeFlags(packageJson = new URL('../package.json', import.meta.url)): string[] {
  const start = (JSON.parse(readFileSync(packageJson, 'utf8')) as { scripts: { start: string } }).scripts.start
  const words = start.split(/\s+/)
  const flags: string[] = []
  // `exec node <flags> --import tsx src/server.ts`: the flags are what stands between node and --import
  for (const word of words.slice(words.indexOf('node') + 1)) {
    if (word === '--import' || !word.startsWith('--')) break
    flags.push(word)
  }
  return flags
}
