import type { EphemeralEvent } from './bus.js'
import type { Dashboards } from './dashboards.js'
import type { Peers } from './peers.js'
import type { Rooms } from './rooms.js'
import { Throttle, typingKey, type TypingEvent } from './typing.js'

type ReadEvent = Extract<EphemeralEvent, { k: 'read' }>

// past this many remembered marks, the ones quiet this long are forgotten (no event is in flight that long)
const READ_MARKS_PRUNE_AT = 10_000
const READ_MARK_QUIET_MS = 10 * 60_000

/** Typing and read marks from the bus (any instance), passed to the other side's sockets; nothing is stored. */
export class EphemeralRelay {
  /** typing events from the bus (any instance), before they reach sockets */
  private readonly typingOut = new Throttle()
  /** per session and reader, the highest read mark passed on here, and when */
  private readonly readMarks = new Map<string, { seq: number; at: number }>()
  /** the size at which quiet marks are looked for next: doubled after each look, so a busy map is not scanned per event */
  private pruneReadMarksAt = READ_MARKS_PRUNE_AT

  constructor(private readonly rooms: Rooms, private readonly peers: Peers, private readonly dashboards: Dashboards) {}

  onTyping(event: TypingEvent): void {
    if (!this.typingOut.allow(typingKey(event))) return
    if (event.from === 'visitor') {
      this.dashboards.broadcast(event.site, JSON.stringify({ type: 'typing', sessionId: event.session, sender: 'visitor' }))
    } else {
      this.sendToWatchers(event.session, JSON.stringify({ type: 'typing', sender: 'agent', name: event.name ?? null }))
    }
  }

  /** A read mark moved: the other side's sockets are told, never of a mark below one they were told of. */
  onRead(event: ReadEvent): void {
    if (!this.movesForward(event)) return
    if (event.from === 'visitor') {
      this.dashboards.broadcast(event.site, JSON.stringify({ type: 'read', sessionId: event.session, reader: 'visitor', seq: event.seq }))
    } else {
      this.sendToWatchers(event.session, JSON.stringify({ type: 'read', reader: 'agent', seq: event.seq }))
    }
  }

  /**
   * The bus keeps order per publishing instance only, so a mark recorded earlier (2, through
   * one instance) may arrive after a later one (5, through another): passed on, it would move
   * "Seen" back. Marks are stored only ever forward, so a mark not above the last one passed
   * on tells nothing new; a socket that opens later reads the stored mark.
   */
  private movesForward(event: ReadEvent): boolean {
    const key = `${event.session}:${event.from}`
    const known = this.readMarks.get(key)
    if (known !== undefined && event.seq <= known.seq) return false
    const now = Date.now()
    if (known === undefined && this.readMarks.size >= this.pruneReadMarksAt) {
      for (const [k, mark] of this.readMarks) if (now - mark.at >= READ_MARK_QUIET_MS) this.readMarks.delete(k)
      this.pruneReadMarksAt = Math.max(READ_MARKS_PRUNE_AT, this.readMarks.size * 2)
    }
    this.readMarks.set(key, { seq: event.seq, at: now })
    return true
  }

  private sendToWatchers(sessionId: string, frame: string): void {
    const room = this.rooms.get(sessionId)
    if (room) for (const w of room.watchers) this.peers.send(w, frame)
  }
}
