import type { Db } from '../db/client.js'
import { membershipsOf, type Membership } from '../chat/users.js'
import { worksOn } from '../chat/visibility.js'
import type { Presence } from './presence.js'

export type SiteAvailabilityAnswer = { online: boolean; agentsOnline: number }

const MAX_CACHED_SITES = 10_000

/**
 * "Is anyone there?" for a site, as the widget asks it on every page view: how many users
 * who work on the site are online. Answered from memory: presence is already here (from the
 * bus), where users work is read once per user and kept until a 'user' event says it
 * changed, and each site's answer is kept until presence or membership changes.
 */
export class SiteAvailability {
  private readonly memberships = new Map<string, Membership>()
  private readonly answers = new Map<string, SiteAvailabilityAnswer>()
  /** bumped on every change, so an answer computed across one is not kept */
  private generation = 0

  constructor(private readonly db: Db, private readonly presence: Presence) {}

  /** Someone came or went: answers are recomputed on the next question. */
  presenceChanged(): void {
    this.generation++
    this.answers.clear()
  }

  /** The user changed (sites, disabled) or, without an id, anything may have (the bus reconnected). */
  forget(userId?: string): void {
    if (userId === undefined) this.memberships.clear()
    else this.memberships.delete(userId)
    this.generation++
    this.answers.clear()
  }

  async of(siteId: string): Promise<SiteAvailabilityAnswer> {
    const cached = this.answers.get(siteId)
    if (cached) return cached
    const generation = this.generation
    const online = this.presence.onlineUserIds()
    const unknown = online.filter((id) => !this.memberships.has(id))
    for (const m of await membershipsOf(this.db, unknown)) this.memberships.set(m.id, m)
    const agentsOnline = online.filter((id) => {
      const m = this.memberships.get(id)
      return m !== undefined && !m.disabled && worksOn(m, siteId)
    }).length
    const answer = { online: agentsOnline > 0, agentsOnline }
    if (generation !== this.generation) return answer
    if (this.answers.size >= MAX_CACHED_SITES) this.answers.clear()
    this.answers.set(siteId, answer)
    return answer
  }
}
