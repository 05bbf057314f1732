import type { EphemeralEvent } from './bus.js'

/** A sender's typing events for one session: at most one per this interval (API.md). */
export const TYPING_INTERVAL_MS = 2_000

// past this many remembered senders, the ones quiet for a whole interval are forgotten
const PRUNE_AT = 10_000

export type TypingEvent = Extract<EphemeralEvent, { k: 'typing' }>

/** Who is typing where: one key per sender per session (each agent is a sender; the visitor is one). */
export const typingKey = (e: Pick<TypingEvent, 'session' | 'from' | 'user'>) => `${e.session}:${e.from}:${e.user ?? ''}`

/**
 * Lets through the first event of a key and then none for `intervalMs`. Used twice: where
 * typing frames arrive (so a chatty client costs no bus traffic) and where events reach
 * sockets (so a sender typing through two instances still reaches a socket at most once
 * per interval). Memory is bounded by the senders typing right now.
 */
export class Throttle {
  private readonly last = new Map<string, number>()

  constructor(private readonly intervalMs = TYPING_INTERVAL_MS, private readonly now: () => number = Date.now) {}

  allow(key: string): boolean {
    const now = this.now()
    const previous = this.last.get(key)
    if (previous !== undefined && now - previous < this.intervalMs) return false
    if (this.last.size >= PRUNE_AT) {
      for (const [k, at] of this.last) if (now - at >= this.intervalMs) this.last.delete(k)
    }
    this.last.set(key, now)
    return true
  }
}
