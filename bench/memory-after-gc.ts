/**
 * A server's memory as the idle bench reads it, the same way in the product and in the bare
 * baseline: after full GCs, once what they freed has been given back. V8 sweeps and unmaps freed
 * pages on background threads after gc() returns, so a reading taken at once counts pages about
 * to be released: ~50 KiB per socket of the product's upgrade garbage at 2,000 sockets, against
 * ~7.5 KiB a second later. Rounds go on until RSS stops falling.
 */
const ROUNDS = 8
const WAIT_MS = 300
const STABLE = 0.005

export async function memoryAfterGc(): Promise<{ rss: number; heapUsed: number }> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('the bench servers run with --expose-gc')
  let rss = Infinity
  for (let round = 0; round < ROUNDS; round++) {
    gc()
    await new Promise((resolve) => setTimeout(resolve, WAIT_MS))
    const now = process.memoryUsage().rss
    const settled = now > rss * (1 - STABLE)
    rss = Math.min(rss, now)
    if (settled) break
  }
  gc()
  return { rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed }
}
