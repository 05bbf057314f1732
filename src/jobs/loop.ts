export type Loop = {
  /** run the next round now instead of after the interval */
  wake: () => void
  /** no new round starts; resolves when the current one has finished (its signal is aborted) */
  stop: () => Promise<void>
}

/**
 * Runs `round` again and again with `intervalMs` between rounds, until stopped. A failing
 * round is reported and the loop goes on; the signal lets a round cut short a long wait
 * (an HTTP long poll) when the app closes.
 */
export function startLoop(intervalMs: number, round: (signal: AbortSignal) => Promise<void>, onError: (err: unknown) => void): Loop {
  const stopping = new AbortController()
  let wakeUp: (() => void) | undefined
  // a wake during a round skips the pause after it
  let wakeRequested = false
  const pause = () => new Promise<void>((resolve) => {
    const timer = setTimeout(done, intervalMs)
    function done() {
      clearTimeout(timer)
      wakeUp = undefined
      stopping.signal.removeEventListener('abort', done)
      resolve()
    }
    wakeUp = done
    stopping.signal.addEventListener('abort', done)
  })
  const running = (async () => {
    while (!stopping.signal.aborted) {
      try {
        await round(stopping.signal)
      } catch (err) {
        if (!stopping.signal.aborted) onError(err)
      }
      if (!stopping.signal.aborted && !wakeRequested) await pause()
      wakeRequested = false
    }
  })()
  return {
    wake: () => {
      if (wakeUp) wakeUp()
      else wakeRequested = true
    },
    stop: async () => {
      stopping.abort()
      await running
    },
  }
}
