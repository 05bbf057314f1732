import type { FastifyBaseLogger } from 'fastify'
import type { WebSocket } from 'ws'
import { ChatError } from '../chat/errors.js'
import { listMessages, MAX_PAGE, type Message } from '../chat/messages.js'
import { getSessionStatus, type Session } from '../chat/sessions.js'
import { getNote } from '../chat/notes.js'
import { getAdminSession } from '../chat/session-views.js'
import { findSiteByApiKey } from '../chat/sites.js'
import type { User } from '../chat/users.js'
import type { Db } from '../db/client.js'
import { linkSession, type FileLinks } from '../files/links.js'
import type { BusEvent } from './bus.js'
import { Dashboards, RESYNC_FRAME, type DashboardAuth } from './dashboards.js'
import { deliverMessages, messageFrame } from './delivery.js'
import { EphemeralRelay } from './ephemeral-relay.js'
import { originFrame } from './frames.js'
import { CloseCode, Peers } from './peers.js'
import { Rooms, type Room, type WatchedSession, type Watcher } from './rooms.js'
import { Sweep } from './sweep.js'

export type HubOptions = {
  /** told, for each message read after a notification or carried by one, how long after its commit that was */
  observeLagMs?: (ms: number) => void
  /** how often watched sessions are checked for messages whose notification never came */
  sweepMs: number
  /** told how long each sweep that read the database took (its read and the catch-up it queued) */
  observeSweepMs?: (ms: number) => void
  db: Db
  log: Pick<FastifyBaseLogger, 'warn' | 'error'>
  heartbeatMs: number
  maxBufferedBytes: number
  /** told when a user with dashboards here changed (re-read after a 'user' event) and still may use them */
  onUserChanged?: (user: User) => void
  /** the token's user while the token still holds (not expired, revoked, or its user disabled or changed) */
  verifyStaffToken: (token: string) => Promise<User>
  /** signs the URLs of the files messages carry, for each socket's origin */
  links: FileLinks
}

/**
 * Fans chat events out to this process's sockets. A notification only says "session S has
 * news"; the rows are re-read once per notification for all of S's sockets, and each socket
 * gets only the messages right after its own lastSeq, so duplicate, late or lost
 * notifications cause neither duplicates nor gaps. An event that carries its message (every
 * event this instance published, delivered by the bus at publish; another instance's on NATS)
 * is sent as it is under the same rule; only a socket still behind it is read for.
 */
export class Hub {
  private readonly rooms: Rooms
  private readonly peers: Peers
  private readonly ephemera: EphemeralRelay
  private readonly dashboards: Dashboards
  private readonly sweep: Sweep

  constructor(private readonly opts: HubOptions) {
    this.peers = new Peers(opts)
    this.rooms = new Rooms(opts.log)
    this.dashboards = new Dashboards(this.peers, opts)
    this.ephemera = new EphemeralRelay(this.rooms, this.peers, this.dashboards)
    this.sweep = new Sweep(opts, this.rooms, this.dashboards, (sessionId, room) => this.queueRead(sessionId, room),
      (sessionId, room, status, dashboardsOwed) => this.queueStatus(sessionId, room, status, dashboardsOwed),
      (sessionId, siteId, erasedAt) => this.onErased(sessionId, siteId, erasedAt))
  }

  get dashboardSocketCount(): number {
    return this.dashboards.size
  }

  get widgetSocketCount(): number {
    return this.peers.size - this.dashboards.size
  }

  /**
   * Subscribes first, then sends the backlog after `after` and the session status: a message
   * stored meanwhile is either in the backlog or read again for its notification, and the
   * lastSeq rule sends it once.
   */
  watchSession(socket: WebSocket, watched: WatchedSession, after: number): void {
    const { sessionId, siteId, apiKey, origin } = watched
    // every field named, so that they sit in the object itself (a spread left them in a second array)
    const watcher: Watcher = { socket, alive: true, sessionId, siteId, apiKey, origin, lastSeq: after, status: undefined, backlogSent: false }
    const room = this.rooms.of(sessionId)
    room.siteId = siteId
    room.watchers.add(watcher)
    this.peers.track(watcher, () => {
      room.watchers.delete(watcher)
      this.rooms.releaseIfIdle(sessionId, room)
    })
    this.rooms.enqueue(sessionId, room, () => this.sendBacklog(sessionId, room, watcher))
    this.rooms.enqueue(sessionId, room, () => this.refreshSession(sessionId, room))
  }

  /** Returns the socket's user as last re-read (dashboards.ts). */
  addDashboard(socket: WebSocket, user: User, auth: DashboardAuth): () => User {
    return this.dashboards.add(socket, user, auth)
  }

  /** A frame about one session for every dashboard that may see its site (dashboards.ts). */
  broadcast(siteId: string, frame: string): void {
    this.dashboards.broadcast(siteId, frame)
  }

  /** Sessions with an open widget socket on this instance: their visitors are present. */
  watchedSessionIds(): string[] {
    return [...this.rooms.entries()].flatMap(([id, room]) => (room.watchers.size > 0 ? [id] : []))
  }

  /** The room's sockets get a message in hand, in the room's order; only one a gap still holds back is read for. */
  private handOver(sessionId: string, room: Room, message: Message): void {
    this.rooms.enqueue(sessionId, room, async () => {
      deliverMessages(this.peers, this.opts.links, room.watchers, [message])
      if ([...room.watchers].some((w) => w.lastSeq < message.seq)) this.queueRead(sessionId, room)
    })
  }

  /** A bus event; the ephemeral ones are not the hub's (yet). */
  handle(event: BusEvent): void {
    if (event.k === 'message') this.onMessage(event.site, event.session, event.seq, event.message)
    else if (event.k === 'erased') this.onErased(event.session, event.site)
    else if (event.k === 'session') this.onSession(event.site, event.session, event.created === true)
    else if (event.k === 'note') this.onNote(event.site, event.note)
    else if (event.k === 'user') this.dashboards.refreshUser(event.user)
    else if (event.k === 'revoked') this.dashboards.closeToken(event.token)
    else if (event.k === 'site') this.closeRevokedKeys(event.site)
    else if (event.k === 'typing') this.ephemera.onTyping(event)
    else if (event.k === 'read') this.ephemera.onRead(event)
  }

  /** After a bus reconnect: catch every watched session up from its sockets' lastSeq. */
  resync(): void {
    for (const [sessionId, room] of this.rooms.entries()) {
      if (room.watchers.size === 0) continue
      this.queueRead(sessionId, room)
      this.rooms.enqueue(sessionId, room, () => this.refreshSession(sessionId, room))
    }
    // Dashboards hold lists and counters the REST API rebuilds best; they refetch on this frame.
    this.dashboards.broadcastAll(RESYNC_FRAME)
    // a sign-out or a user change whose event was lost still reaches its sockets
    this.dashboards.refreshAll()
  }

  closeAll(code: number, reason: string): void {
    this.sweep.stop()
    this.peers.closeAll(code, reason)
  }

  /** `carried`: the message itself, when the bus brought it (realtime/bus.ts); otherwise it is read. */
  private onMessage(siteId: string, sessionId: string, seq: number, carried: Message | undefined): void {
    const room = this.rooms.get(sessionId)
    // a seq the sweep already sent to dashboards is not sent again
    const dashboardsSee = this.sweep.announce(sessionId, seq) && this.dashboards.anySees(siteId)
    if (carried !== undefined && room !== undefined && room.watchers.size > 0) {
      this.opts.observeLagMs?.(Date.now() - carried.createdAt.getTime())
      this.handOver(sessionId, room, carried)
      if (!dashboardsSee) return
    }
    const watcherBehind = carried === undefined && room !== undefined && [...room.watchers].some((w) => w.lastSeq < seq)
    if (!dashboardsSee && !watcherBehind) return
    const target = room ?? this.rooms.of(sessionId)
    target.siteId = siteId
    if (dashboardsSee) target.dashboardSeqs.push(seq)
    this.queueRead(sessionId, target)
  }

  private onSession(siteId: string, sessionId: string, created: boolean): void {
    // a new session is known from here on: the sweep sends frames for any message of it whose notification is lost
    if (created) this.sweep.announce(sessionId, 0)
    const room = this.rooms.get(sessionId)
    if (!this.dashboards.anySees(siteId) && (room === undefined || room.watchers.size === 0)) return
    const target = room ?? this.rooms.of(sessionId)
    target.siteId = siteId
    this.rooms.enqueue(sessionId, target, () => this.refreshSession(sessionId, target, created ? 'session.created' : 'session.updated'))
  }

  /**
   * Erased: the widget's sockets close for good and the dashboards drop the conversation, once
   * (the sweep comes here too, for every erasure in its window: its event may have been lost;
   * it tells only dashboards open since before `erasedAt`, as one opened later never listed it).
   */
  private onErased(sessionId: string, siteId: string, erasedAt?: Date): void {
    const room = this.rooms.get(sessionId)
    if (room) this.closeErased(room)
    if (this.sweep.announceErased(sessionId)) this.dashboards.broadcast(siteId, JSON.stringify({ type: 'session.erased', session: { id: sessionId, siteId } }), erasedAt)
  }

  /** A note goes to the dashboards that see its site; widgets never hear of it. */
  private onNote(siteId: string, noteId: string): void {
    if (!this.dashboards.anySees(siteId)) return
    getNote(this.opts.db, noteId).then((note) => {
      if (note) this.dashboards.broadcast(siteId, JSON.stringify({ type: 'note.created', note }))
    }, (err: unknown) => {
      this.opts.log.warn({ err, noteId }, 'could not read a new note; asking dashboards to refetch')
      this.dashboards.broadcast(siteId, RESYNC_FRAME)
    })
  }

  /** After a key rotation the old key stops working, for open sockets too. */
  private closeRevokedKeys(siteId: string): void {
    const watchers = this.rooms.watchers().filter((w) => w.siteId === siteId)
    if (watchers.length === 0) return
    const keys = [...new Set(watchers.map((w) => w.apiKey))]
    Promise.all(keys.map(async (key) => ({ key, valid: (await findSiteByApiKey(this.opts.db, key))?.id === siteId })))
      .then((checked) => {
        const revoked = new Set(checked.filter((c) => !c.valid).map((c) => c.key))
        for (const w of watchers) if (revoked.has(w.apiKey)) w.socket.close(CloseCode.unauthorized, 'API key no longer valid')
      })
      .catch((err: unknown) => this.opts.log.warn({ err, siteId }, 'could not check site keys after a site change'))
  }

  private queueRead(sessionId: string, room: Room): void {
    this.rooms.queueRead(sessionId, room, () => this.readNew(sessionId, room))
  }

  /** The sweep found a status the session's sockets here were not sent (its event was lost): sent as for the event. */
  private queueStatus(sessionId: string, room: Room, status: Session['status'], dashboardsOwed: boolean): void {
    this.rooms.enqueue(sessionId, room, async () => {
      // decided again in the room's order: a session event heard meanwhile has sent it already
      const dashboardEvent = dashboardsOwed && this.sweep.dashboardsOweStatus(sessionId, room.siteId, status) ? 'session.updated' : undefined
      if (dashboardEvent || [...room.watchers].some((w) => w.status !== undefined && w.status !== status)) await this.refreshSession(sessionId, room, dashboardEvent)
    })
  }

  private async readNew(sessionId: string, room: Room): Promise<void> {
    const dashboardSeqs = room.dashboardSeqs.splice(0)
    try {
      await this.readNewFor(sessionId, room, dashboardSeqs)
    } catch (err) {
      // only dashboards that were owed one of these events need to refetch
      if (dashboardSeqs.length > 0) this.resyncDashboards(room.siteId)
      throw err
    }
  }

  private async readNewFor(sessionId: string, room: Room, dashboardSeqs: number[]): Promise<void> {
    let after = Infinity
    // a socket already closing (cut off, going away) must not widen the read
    for (const w of room.watchers) if (w.socket.readyState === w.socket.OPEN) after = Math.min(after, w.lastSeq)
    for (const seq of dashboardSeqs) after = Math.min(after, seq - 1)
    if (after === Infinity) return
    const messages = await listMessages(this.opts.db, sessionId, { after })
    const now = Date.now()
    for (const m of messages) this.opts.observeLagMs?.(now - m.createdAt.getTime())
    if (room.watchers.size > 0) deliverMessages(this.peers, this.opts.links, room.watchers, messages)
    const wanted = new Set(dashboardSeqs)
    const siteId = room.siteId
    if (siteId === undefined) return
    for (const message of messages) {
      if (wanted.has(message.seq)) this.dashboards.broadcast(siteId, messageFrame(this.opts.links, 'message.created', message))
    }
  }

  private async sendBacklog(sessionId: string, room: Room, watcher: Watcher): Promise<void> {
    for (;;) {
      if (!room.watchers.has(watcher)) return
      const page = await listMessages(this.opts.db, sessionId, { after: watcher.lastSeq, limit: MAX_PAGE })
      if (!deliverMessages(this.peers, this.opts.links, [watcher], page) || page.length < MAX_PAGE) break
    }
    watcher.backlogSent = true
  }

  private async refreshSession(sessionId: string, room: Room, dashboardEvent?: 'session.created' | 'session.updated'): Promise<void> {
    try {
      await this.sendSession(sessionId, room, dashboardEvent)
    } catch (err) {
      if (!(err instanceof ChatError && err.status === 404)) throw err
      // erased: its 'erased' event closes the sockets too, but one that was lost does not (a bus reconnect's re-read comes here)
      this.closeErased(room)
    }
  }

  private closeErased(room: Room): void {
    for (const w of room.watchers) w.socket.close(CloseCode.erased, 'session erased')
  }

  private async sendSession(sessionId: string, room: Room, dashboardEvent?: 'session.created' | 'session.updated'): Promise<void> {
    let status: Session['status']
    if (dashboardEvent && this.dashboards.anySees(room.siteId)) {
      const session = await getAdminSession(this.opts.db, sessionId).catch((err: unknown) => {
        this.resyncDashboards(room.siteId)
        throw err
      })
      this.dashboards.broadcast(session.siteId, originFrame((origin) => JSON.stringify({ type: dashboardEvent, session: linkSession(this.opts.links, origin, session) }),
        (session.lastMessage?.attachments.length ?? 0) > 0))
      this.sweep.announceStatus(sessionId, session.status)
      status = session.status
    } else if (room.watchers.size > 0) {
      status = await getSessionStatus(this.opts.db, sessionId)
    } else {
      return
    }
    const frame = JSON.stringify({ type: 'session', session: { id: sessionId, status } })
    for (const w of room.watchers) {
      // a socket whose backlog is still to come is told by its own status read, queued after the backlog
      if (w.backlogSent && w.status !== status && this.peers.send(w, frame)) w.status = status
    }
  }

  /** The dashboards that may see this site (all, when it is unknown) refetch what they show. */
  private resyncDashboards(siteId: string | undefined): void {
    if (siteId === undefined) this.dashboards.broadcastAll(RESYNC_FRAME)
    else this.dashboards.broadcast(siteId, RESYNC_FRAME)
  }
}
