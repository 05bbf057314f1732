/**
 * The realtime bus: how instances tell each other (and themselves) that something happened.
 * One interface, chosen at start; today's implementation is Postgres NOTIFY/LISTEN
 * (postgres-bus.ts). Nothing outside the code that builds the app knows which one runs.
 *
 * Two kinds of events travel on it:
 * - durable: a change already committed to Postgres (the truth). The event carries ids;
 *   subscribers re-read the rows. One that is lost is made good by a re-read (the hub's
 *   sweep, and everything a subscriber does on `onReconnect`). The one exception: a bus that
 *   carries stored messages (NATS) sends a new message along with its ids, so the instances
 *   with its session's sockets send it without a round trip to Postgres (encodeCarrying).
 * - ephemeral: typing, presence heartbeats, read pings. Never stored, never a table write; a
 *   lost one is simply superseded by the next. Keep them small (MAX_EVENT_BYTES).
 *
 * Delivery: every subscriber of every instance, the publishing instance included; at most
 * once; in publishing order per instance, no order across instances. The publishing bus's own
 * subscribers get an event at publish (in a microtask, never inside the publisher's call), as
 * published (a 'message' event with its message, whichever bus runs), even while the network
 * is away; its echo from Postgres or NATS is skipped by the bus client's origin id, never by
 * content, so events of other instances and of other bus clients in the process still arrive.
 * A publish that then fails to go out is the other instances' loss, made good as above.
 */
import { randomUUID } from 'node:crypto'
import type { Message } from '../chat/message-row.js'

/**
 * A committed change, announced after its commit: ids, and no message text except a 'message'
 * event's `message` on a bus that carries it.
 */
export type DurableEvent =
  /**
   * `message`: the stored message, given by its writer. The Postgres bus drops it (NOTIFY
   * payloads are capped and show in the server's activity views); NATS carries it when it fits
   * in MAX_CARRIED_BYTES. Receivers send it under the same lastSeq rule as a re-read, and
   * re-read only for a socket that is still behind. `outbox: false`: the statement that stored
   * it queued no outbox row (no webhook, Telegram or email for it), so the delivery workers need
   * not look; absent (also from a release that does not send it), they look.
   */
  | { k: 'message'; site: string; session: string; seq: number; message?: Message; outbox?: false }
  | { k: 'session'; site: string; session: string; created?: boolean }
  | { k: 'site'; site: string }
  /** the session and everything of it were erased (privacy): its sockets close, dashboards drop it */
  | { k: 'erased'; site: string; session: string }
  /** rows were queued for delivery without a chat change (a legacy note, an admin's retry): outbox workers look now */
  | { k: 'outbox'; site: string }
  /** any change to a user (settings, membership, availability, revocation): subscribers re-read it */
  | { k: 'user'; user: string }
  /** a private note was stored (staff only: it reaches dashboards, never a widget) */
  | { k: 'note'; site: string; session: string; note: string }
  /** a staff token was signed out (`token` is its hash) */
  | { k: 'revoked'; user: string; token: string }

/**
 * Never stored. Typing carries the agent's id and display name (widgets show the name), so
 * no instance reads anything to forward it. A read mark is stored by its writer; the event
 * only tells the other side's sockets (the seq is the stored, monotonic value).
 */
export type EphemeralEvent =
  | { k: 'typing'; site: string; session: string; from: 'visitor' | 'agent'; user?: string; name?: string }
  /** an instance's word on a user with dashboard sockets on it; holds for ttlMs unless repeated (realtime/presence.ts) */
  | { k: 'presence'; user: string; status: 'online' | 'away' | 'offline'; instance: string; ttlMs: number }
  /** an instance that has just started (or reconnected) asks every other one to repeat its presence now */
  | { k: 'presence-sync'; instance: string }
  | { k: 'read'; site: string; session: string; seq: number; from: 'visitor' | 'agent'; user?: string }

/**
 * Not a change: the publishing instance had to drop events (its database was away too long).
 * A bus hands it to no subscriber as an event; it tells them all `onReconnect` instead.
 */
export type LostEvents = { k: 'lost' }

export type BusEvent = DurableEvent | EphemeralEvent

/** An event's JSON must fit in this many bytes (NOTIFY payloads are capped at 8000; several share one). */
export const MAX_EVENT_BYTES = 1024

/**
 * A 'message' event with its message fits in this many bytes or goes with ids only (4000
 * characters of text are at most 16 kB of UTF-8; JSON escapes can make it more).
 */
export const MAX_CARRIED_BYTES = 64 * 1024

/** What publishing code needs: the domain (chat/) takes this, never the bus itself. */
export interface Publisher {
  /**
   * Sends the event to every instance. Returns at once and never waits for the network; a
   * failure to deliver is not reported (see "lost" above). Throws a RangeError for an event
   * larger than MAX_EVENT_BYTES. A durable event must be published after its change
   * committed: inside a transaction, publish to the transaction's Publisher (chat/transaction.ts).
   */
  publish(event: BusEvent): void
}

export interface BusSubscriber {
  onEvent(event: BusEvent): void
  /**
   * The bus connection dropped and is back: events published meanwhile are lost. Re-read
   * whatever was kept up to date from events (sockets' backlogs, caches).
   */
  onReconnect(): void
}

export interface RealtimeBus extends Publisher {
  /** Starts delivering events to the subscriber; resolves once it receives. Returns the unsubscribe. */
  subscribe(subscriber: BusSubscriber): Promise<() => void>
  /** Sends what is still on its way, then stops receiving. */
  close(): Promise<void>
}

/** Checks an event against MAX_EVENT_BYTES; returns its JSON, ids only (a 'message' event's message is left out). */
export function encodeEvent(event: BusEvent): string {
  if (event.k === 'message' && event.message !== undefined) return encodeEvent(idsOnly(event))
  const json = JSON.stringify(event)
  // JSON of ASCII ids is one byte a character; count bytes only when it might matter
  if (json.length * 3 > MAX_EVENT_BYTES && Buffer.byteLength(json) > MAX_EVENT_BYTES) {
    throw new RangeError(`a bus event must be at most ${MAX_EVENT_BYTES} bytes of JSON (a '${event.k}' event had ${Buffer.byteLength(json)})`)
  }
  return json
}

/** encodeEvent for a bus that carries stored messages: a 'message' event keeps its message while it fits in MAX_CARRIED_BYTES. */
export function encodeCarrying(event: BusEvent): string {
  if (event.k !== 'message' || event.message === undefined) return encodeEvent(event)
  const json = JSON.stringify(event)
  if (json.length <= MAX_CARRIED_BYTES / 3 || Buffer.byteLength(json) <= MAX_CARRIED_BYTES) return json
  return encodeEvent(idsOnly(event))
}

function idsOnly({ k, site, session, seq, outbox }: Extract<BusEvent, { k: 'message' }>): BusEvent {
  return outbox === false ? { k, site, session, seq, outbox } : { k, site, session, seq }
}

/**
 * Events as received: one or an array of them; anything that is not an event is dropped (so
 * the origin mark that leads a payload is, for a release that does not know it).
 */
function decodeEvents(payload: string): (BusEvent | LostEvents)[] {
  try {
    const parsed: unknown = JSON.parse(payload)
    const list = Array.isArray(parsed) ? parsed : [parsed]
    return list.filter((e): e is BusEvent | LostEvents => typeof e === 'object' && e !== null && typeof (e as { k?: unknown }).k === 'string')
      .map(reviveMessage)
  } catch {
    return []
  }
}

/** A carried message as JSON has its createdAt as text; one that does not look like a message is dropped (receivers re-read). */
function reviveMessage(event: BusEvent | LostEvents): BusEvent | LostEvents {
  if (event.k !== 'message' || event.message === undefined) return event
  const m = event.message as Omit<Message, 'createdAt'> & { createdAt: unknown }
  const createdAt = typeof m.createdAt === 'string' ? new Date(m.createdAt) : undefined
  const valid = createdAt !== undefined && !Number.isNaN(createdAt.getTime()) && m.seq === event.seq && m.sessionId === event.session &&
    typeof m.text === 'string' && Array.isArray(m.attachments)
  return valid ? { ...event, message: { ...m, createdAt } } : idsOnly(event)
}

/**
 * A bus's subscribers: each is told everything; one that throws is logged and the others are
 * still told. Every payload this bus client sends starts with its origin mark, so that its
 * own echo is known without parsing it.
 */
export class Subscribers {
  private readonly subscribers = new Set<BusSubscriber>()
  /** `{"origin":"<this bus client's id>"}`: not an event, dropped as such by any receiver */
  private readonly originMark = JSON.stringify({ origin: randomUUID() })
  /** how a payload of this bus client's with events starts */
  private readonly echoPrefix = `[${this.originMark},`
  /** how any payload of this bus client's starts, its greeting included */
  private readonly ownPrefix = `[${this.originMark}`

  constructor(private readonly log: { error: (obj: object, msg: string) => void }) {}

  /** The payload for events already encoded (encodeEvent, encodeCarrying): an array led by the origin mark. */
  payload(encoded: string[]): string {
    return `${this.echoPrefix}${encoded.join(',')}]`
  }

  /** A payload with no event (receivers drop the origin mark): says that this bus client listens. */
  get greeting(): string {
    return `[${this.originMark}]`
  }

  /** Whether the payload is this bus client's own (the echo of its events or of its greeting). */
  isOwn(payload: string): boolean {
    return payload.startsWith(this.ownPrefix)
  }

  /** What payload() adds to the events' JSON, in bytes. */
  get payloadOverhead(): number {
    return this.echoPrefix.length + 1
  }

  /** At publish: this bus client's subscribers get the event in hand, in publishing order, after the publisher's call returns. */
  deliverLocally(event: BusEvent): void {
    queueMicrotask(() => this.tell((s) => s.onEvent(event)))
  }

  /** Returns the unsubscribe. */
  add(subscriber: BusSubscriber): () => void {
    this.subscribers.add(subscriber)
    return () => this.subscribers.delete(subscriber)
  }

  clear(): void {
    this.subscribers.clear()
  }

  /**
   * A payload as received: each event to every subscriber; a 'lost' one has them all re-read.
   * This bus client's own payloads are skipped: their events were delivered at publish (and
   * the 'lost' in one covers events that its subscribers already had).
   */
  deliver(payload: string): void {
    if (this.isOwn(payload)) return
    for (const event of decodeEvents(payload)) {
      if (event.k === 'lost') this.tell((s) => s.onReconnect())
      else this.tell((s) => s.onEvent(event))
    }
  }

  tell(call: (subscriber: BusSubscriber) => void): void {
    for (const subscriber of this.subscribers) {
      try {
        call(subscriber)
      } catch (err) {
        this.log.error({ err }, 'a realtime bus subscriber failed')
      }
    }
  }
}
