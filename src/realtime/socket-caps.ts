/**
 * How many widget sockets one session and one client address may hold open on this
 * instance. Checked before the upgrade (so a refusal is a plain HTTP 429), and counted
 * when the socket opens (two upgrades racing past the check: the second is closed with
 * 1013, "try again later").
 */
export class SocketCaps {
  private readonly bySession = new Map<string, number>()
  private readonly byAddress = new Map<string, number>()

  constructor(private readonly maxPerSession: number, private readonly maxPerAddress: number) {}

  /** Which cap one more socket would pass, if any. */
  over(sessionId: string, address: string): 'session' | 'address' | undefined {
    if ((this.bySession.get(sessionId) ?? 0) >= this.maxPerSession) return 'session'
    if ((this.byAddress.get(address) ?? 0) >= this.maxPerAddress) return 'address'
    return undefined
  }

  /** Counts a socket in; undefined when a cap is reached. The returned function counts it out (once). */
  take(sessionId: string, address: string): (() => void) | undefined {
    if (this.over(sessionId, address)) return undefined
    bump(this.bySession, sessionId, 1)
    bump(this.byAddress, address, 1)
    let released = false
    return () => {
      if (released) return
      released = true
      bump(this.bySession, sessionId, -1)
      bump(this.byAddress, address, -1)
    }
  }
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const n = (counts.get(key) ?? 0) + by
  if (n > 0) counts.set(key, n)
  else counts.delete(key)
}
