import { notFound } from '../chat/errors.js'
import { getSession } from '../chat/sessions.js'
import type { User } from '../chat/users.js'
import { canSee } from '../chat/visibility.js'
import type { Executor } from '../db/client.js'
import type { EphemeralEvent, Publisher } from './bus.js'

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

// sessions never move to another site, so what agents type about is looked up once
const SITE_OF_SESSION_MAX = 10_000
const MAX_NAME_CHARS = 100

/**
 * Typing frames from this instance's sockets onto the bus: at most one per sender and
 * session every 2 s (the rest cost nothing), never stored. A lost one is superseded by the
 * next; clients let an indicator expire 5 s after the last event.
 */
export class TypingRelay {
  private readonly throttle = new Throttle()
  private readonly siteOfSession = new Map<string, string>()

  constructor(private readonly db: Executor, private readonly events: Publisher) {}

  /** The visitor of a session typed (the widget socket knows its site). */
  visitor(siteId: string, sessionId: string): void {
    const event: TypingEvent = { k: 'typing', site: siteId, session: sessionId, from: 'visitor' }
    if (this.throttle.allow(typingKey(event))) this.events.publish(event)
  }

  /**
   * An agent typed in a session's reply box; a session that does not exist, or is of a site
   * the agent may not see, is a NOT_FOUND (the agent's name would otherwise reach another site's visitor).
   */
  async agent(agent: Pick<User, 'id' | 'name' | 'role' | 'siteIds'>, sessionId: string): Promise<void> {
    // a throttled frame costs no lookup
    if (!this.throttle.allow(typingKey({ session: sessionId, from: 'agent', user: agent.id }))) return
    let site = this.siteOfSession.get(sessionId)
    if (site === undefined) {
      site = (await getSession(this.db, sessionId)).siteId
      if (this.siteOfSession.size >= SITE_OF_SESSION_MAX) this.siteOfSession.clear()
      this.siteOfSession.set(sessionId, site)
    }
    if (!canSee(agent, site)) throw notFound('Session')
    const name = Array.from(agent.name).slice(0, MAX_NAME_CHARS).join('')
    this.events.publish({ k: 'typing', site, session: sessionId, from: 'agent', user: agent.id, name })
  }
}
