import type { EphemeralEvent } from './bus.js'
import type { Dashboards } from './dashboards.js'
import type { Peers } from './peers.js'
import type { Rooms } from './rooms.js'
import { Throttle, typingKey, type TypingEvent } from './typing.js'

/** Typing and read marks from the bus (any instance), passed to the other side's sockets; nothing is stored. */
export class EphemeralRelay {
  /** typing events from the bus (any instance), before they reach sockets */
  private readonly typingOut = new Throttle()

  constructor(private readonly rooms: Rooms, private readonly peers: Peers, private readonly dashboards: Dashboards) {}

  onTyping(event: TypingEvent): void {
    if (!this.typingOut.allow(typingKey(event))) return
    if (event.from === 'visitor') {
      this.dashboards.broadcast(event.site, JSON.stringify({ type: 'typing', sessionId: event.session, sender: 'visitor' }))
    } else {
      this.sendToWatchers(event.session, JSON.stringify({ type: 'typing', sender: 'agent', name: event.name ?? null }))
    }
  }

  /** A read mark moved: the other side's sockets are told. */
  onRead(event: Extract<EphemeralEvent, { k: 'read' }>): void {
    if (event.from === 'visitor') {
      this.dashboards.broadcast(event.site, JSON.stringify({ type: 'read', sessionId: event.session, reader: 'visitor', seq: event.seq }))
    } else {
      this.sendToWatchers(event.session, JSON.stringify({ type: 'read', reader: 'agent', seq: event.seq }))
    }
  }

  private sendToWatchers(sessionId: string, frame: string): void {
    const room = this.rooms.get(sessionId)
    if (room) for (const w of room.watchers) this.peers.send(w, frame)
  }
}
