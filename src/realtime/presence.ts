import type { Availability } from '../chat/users.js'
import type { BusEvent, Publisher } from './bus.js'

/**
 * Who is online, across instances, without a database write. Each instance owns the
 * presence of its own dashboard sockets: it says so on the bus (ephemeral `presence` events)
 * when a user's first socket opens, when their availability changes, when their last socket
 * closes, and again every heartbeat. Every instance keeps what it hears, each word valid for
 * `ttlMs`; an instance that dies stops repeating itself and its users expire. A user is
 * online while some instance says 'online' (a socket open and availability online).
 */

type Status = 'online' | 'away' | 'offline'
type Heard = { status: Exclude<Status, 'offline'>; until: number }

export type PresenceOptions = {
  /** this process's id on the bus */
  instance: string
  publisher: Publisher
  /** how often this instance repeats the presence of its sockets' users */
  heartbeatMs: number
  /** how long a word holds unless repeated: several heartbeats, so one lost event changes nothing */
  ttlMs: number
  now?: () => number
  /** a user went online or offline as this instance sees it */
  onChange?: (userId: string, online: boolean) => void
}

export class Presence {
  /** users with dashboard sockets on this instance */
  private readonly local = new Map<string, { sockets: number; availability: Availability }>()
  /** user → instance → what that instance last said */
  private readonly heard = new Map<string, Map<string, Heard>>()
  /** who was online at the last look, to tell changes */
  private readonly wasOnline = new Set<string>()
  private readonly timer: NodeJS.Timeout
  private readonly now: () => number

  constructor(private readonly opts: PresenceOptions) {
    this.now = opts.now ?? Date.now
    this.timer = setInterval(() => this.beat(), opts.heartbeatMs)
    this.timer.unref()
  }

  /** A dashboard socket of this user opened on this instance. */
  connected(userId: string, availability: Availability): void {
    const entry = this.local.get(userId)
    if (entry) {
      entry.sockets++
      return
    }
    this.local.set(userId, { sockets: 1, availability })
    this.say(userId)
  }

  /** One of this user's dashboard sockets on this instance closed. */
  disconnected(userId: string): void {
    const entry = this.local.get(userId)
    if (!entry) return
    if (--entry.sockets > 0) return
    this.local.delete(userId)
    this.say(userId)
  }

  hasSocketsOf(userId: string): boolean {
    return this.local.has(userId)
  }

  /** The user switched Online/Away; told at once when their sockets are here. */
  setAvailability(userId: string, availability: Availability): void {
    const entry = this.local.get(userId)
    if (!entry || entry.availability === availability) return
    entry.availability = availability
    this.say(userId)
  }

  handle(event: BusEvent): void {
    // this instance's own words are applied when said: an echo arriving after a later word must not undo it
    if (event.k === 'presence') {
      if (event.instance !== this.opts.instance) this.apply(event)
    } else if (event.k === 'presence-sync' && event.instance !== this.opts.instance) {
      this.beat()
    }
  }

  /** Repeats this instance's presence and asks every other one to repeat theirs (after a start, or a bus reconnect). */
  requestSync(): void {
    this.beat()
    this.opts.publisher.publish({ k: 'presence-sync', instance: this.opts.instance })
  }

  isOnline(userId: string): boolean {
    return this.heardAs(userId, (status) => status === 'online')
  }

  /**
   * Some instance has a dashboard of theirs open, online or away. User views combine it with
   * the stored availability: right after a change, the instance holding the sockets may not
   * have said the new word yet.
   */
  isConnected(userId: string): boolean {
    return this.heardAs(userId, () => true)
  }

  onlineUserIds(): string[] {
    return [...this.heard.keys()].filter((id) => this.isOnline(id))
  }

  /** Tells every instance this one's users are gone (orderly shutdown) and stops. */
  close(): void {
    clearInterval(this.timer)
    for (const userId of [...this.local.keys()]) {
      this.local.delete(userId)
      this.say(userId)
    }
  }

  private heardAs(userId: string, accepts: (status: Heard['status']) => boolean): boolean {
    const now = this.now()
    for (const h of this.heard.get(userId)?.values() ?? []) if (accepts(h.status) && h.until > now) return true
    return false
  }

  /** What this instance knows of the user's sockets here, on the bus and at once locally. */
  private say(userId: string): void {
    const entry = this.local.get(userId)
    const status: Status = !entry ? 'offline' : entry.availability
    const event: BusEvent = { k: 'presence', user: userId, status, instance: this.opts.instance, ttlMs: this.opts.ttlMs }
    this.apply(event)
    this.opts.publisher.publish(event)
  }

  private apply(event: Extract<BusEvent, { k: 'presence' }>): void {
    let byInstance = this.heard.get(event.user)
    if (event.status === 'offline') {
      byInstance?.delete(event.instance)
      if (byInstance?.size === 0) this.heard.delete(event.user)
    } else {
      if (!byInstance) this.heard.set(event.user, (byInstance = new Map()))
      byInstance.set(event.instance, { status: event.status, until: this.now() + Math.min(event.ttlMs, this.opts.ttlMs * 4) })
    }
    this.recheck(event.user)
  }

  /** Repeats this instance's word on its users, and lets what others stopped repeating expire. */
  private beat(): void {
    for (const userId of this.local.keys()) this.say(userId)
    const now = this.now()
    for (const [userId, byInstance] of this.heard) {
      for (const [instance, h] of byInstance) if (h.until <= now) byInstance.delete(instance)
      if (byInstance.size === 0) this.heard.delete(userId)
    }
    for (const userId of [...this.wasOnline]) this.recheck(userId)
  }

  private recheck(userId: string): void {
    const online = this.isOnline(userId)
    if (online === this.wasOnline.has(userId)) return
    if (online) this.wasOnline.add(userId)
    else this.wasOnline.delete(userId)
    this.opts.onChange?.(userId, online)
  }
}
