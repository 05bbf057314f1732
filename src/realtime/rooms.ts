import type { FastifyBaseLogger } from 'fastify'
import type { Session } from '../chat/sessions.js'
import { CloseCode, type Peer } from './peers.js'

/**
 * The session a widget socket watches, the site key it was opened with, and the origin the
 * client reached the server at (the URLs of attached files start with it).
 */
export type WatchedSession = { sessionId: string; siteId: string; apiKey: string; origin: string }

/**
 * A widget socket; it holds only the last seq and status it was sent, never history.
 * `backlogSent` is false until its backlog has gone out: the status frame comes after the
 * backlog (API.md), so another socket's status read does not reach it before then.
 */
export type Watcher = Peer & WatchedSession & { lastSeq: number; status: Session['status'] | undefined; backlogSent: boolean }

/** Everything this process does for one session runs through `tail` in order, one step at a time. */
export type Room = {
  /** the session's site, once an event or a watcher has said it: dashboards get only what they may see */
  siteId: string | undefined
  watchers: Set<Watcher>
  tail: Promise<void>
  pending: number
  readQueued: boolean
  /** seqs notified since the last read that dashboards still have to get */
  dashboardSeqs: number[]
}

/**
 * The hub's rooms: one per session with a widget socket here or a step still running, gone
 * once it has neither, so the map holds only what is in use.
 */
export class Rooms {
  private readonly rooms = new Map<string, Room>()

  constructor(private readonly log: Pick<FastifyBaseLogger, 'warn'>) {}

  get size(): number {
    return this.rooms.size
  }

  get(sessionId: string): Room | undefined {
    return this.rooms.get(sessionId)
  }

  entries(): IterableIterator<[string, Room]> {
    return this.rooms.entries()
  }

  /** Every widget socket here. */
  watchers(): Watcher[] {
    return [...this.rooms.values()].flatMap((room) => [...room.watchers])
  }

  /** The session's room, made when it has none. */
  of(sessionId: string): Room {
    let room = this.rooms.get(sessionId)
    if (!room) {
      room = { siteId: undefined, watchers: new Set(), tail: Promise.resolve(), pending: 0, readQueued: false, dashboardSeqs: [] }
      this.rooms.set(sessionId, room)
    }
    return room
  }

  enqueue(sessionId: string, room: Room, step: () => Promise<void>): void {
    room.pending++
    room.tail = room.tail.then(step).catch((err: unknown) => {
      // whatever this step should have sent is now unknown: the sockets resume from their
      // lastSeq (a step that owed dashboards an event has asked them to refetch already;
      // a failure that concerned only this session's widgets leaves them alone)
      this.log.warn({ err, sessionId }, 'live update failed; asking the session\'s sockets to reconnect')
      for (const w of room.watchers) w.socket.close(CloseCode.tryAgainLater, 'temporary failure: reconnect')
    }).finally(() => {
      room.pending--
      this.releaseIfIdle(sessionId, room)
    })
  }

  /** A read already waiting to start will see this notification's row too. */
  queueRead(sessionId: string, room: Room, read: () => Promise<void>): void {
    if (room.readQueued) return
    room.readQueued = true
    this.enqueue(sessionId, room, () => {
      room.readQueued = false
      return read()
    })
  }

  releaseIfIdle(sessionId: string, room: Room): void {
    if (room.pending === 0 && room.watchers.size === 0 && this.rooms.get(sessionId) === room) this.rooms.delete(sessionId)
  }
}
