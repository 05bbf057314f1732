import type { FastifyBaseLogger } from 'fastify'
import { recentChanges } from '../chat/recent-changes.js'
import type { Session } from '../chat/sessions.js'
import type { Db } from '../db/client.js'
import { DashboardMarks } from './dashboard-marks.js'
import type { Dashboards } from './dashboards.js'
import type { Room, Rooms } from './rooms.js'

// a sweep looks this many intervals back, so a slow sweep or a late commit is still covered
const SWEEP_WINDOW_FACTOR = 5

/**
 * The catch-up for lost notifications. Events are announced after their commit, so one can be
 * lost with the process that stored it (or with a bus connection). Every sweep looks at the
 * sessions active since a little before the previous one and has the hub read again any
 * watched session whose stored lastSeq is ahead of a socket, and any session whose stored
 * lastSeq is ahead of what its dashboards were told (DashboardMarks). A session event can be
 * lost the same way: a session whose status is not the one its widget sockets here were sent,
 * or closed in the window without its dashboards here being sent the close, is sent again.
 * An erasure leaves no session row: the sessions erased in the window (recent_erasures) go
 * through the hub's handling of their `erased` event again, which closes widget sockets still
 * open and tells only dashboards not yet told.
 */
export class Sweep {
  private readonly marks = new DashboardMarks()
  private readonly timer: NodeJS.Timeout

  constructor(
    private readonly opts: { db: Db; sweepMs: number; log: Pick<FastifyBaseLogger, 'warn'>; observeSweepMs?: (ms: number) => void },
    private readonly rooms: Rooms,
    private readonly dashboards: Dashboards,
    /** has the hub read the room's session after its sockets' lastSeq and the room's dashboardSeqs */
    private readonly queueRead: (sessionId: string, room: Room) => void,
    /** has the hub send the session's status to the widget sockets not sent `status`, and to its dashboards when they may be owed it */
    private readonly queueStatus: (sessionId: string, room: Room, status: Session['status'], dashboardsOwed: boolean) => void,
    /** has the hub handle the session's erasure as for its `erased` event */
    private readonly erased: (sessionId: string, siteId: string, erasedAt: Date) => void,
  ) {
    this.timer = setInterval(() => void this.run(), opts.sweepMs).unref()
  }

  /** A notification of `seq` reached this process; true when its dashboards have not been told of it yet. */
  announce(sessionId: string, seq: number): boolean {
    return this.dashboards.size > 0 && this.marks.announce(sessionId, seq)
  }

  /** Dashboards here were sent the session with this status (a `session.*` frame). */
  announceStatus(sessionId: string, status: Session['status']): void {
    if (this.dashboards.size > 0) this.marks.announceStatus(sessionId, status)
  }

  /**
   * Whether dashboards here that see the session's site (with `changedAt`: those open since
   * before the change) still have to be sent this status.
   */
  dashboardsOweStatus(sessionId: string, siteId: string | undefined, status: Session['status'], changedAt?: Date): boolean {
    return this.dashboards.anySees(siteId, changedAt) && !this.marks.statusAnnounced(sessionId, status)
  }

  /** Dashboards here are sent the session's erasure; false when there are none or they were already. */
  announceErased(sessionId: string): boolean {
    return this.dashboards.size > 0 && this.marks.announceErased(sessionId)
  }

  stop(): void {
    clearInterval(this.timer)
  }

  private async run(): Promise<void> {
    if (this.dashboards.size === 0) this.marks.clear()
    if (this.rooms.size === 0 && this.dashboards.size === 0) return
    const startedMs = performance.now()
    try {
      this.marks.startSweep()
      const windowMs = this.opts.sweepMs * SWEEP_WINDOW_FACTOR
      const { sessions, erasures } = await recentChanges(this.opts.db, windowMs)
      const owed = this.dashboards.size > 0 ? this.marks.settle(sessions, erasures.map((e) => e.id)) : new Map()
      for (const s of sessions) {
        const debt = owed.get(s)
        if (debt?.kind === 'resync') this.dashboards.resyncOpenedBefore(s.siteId, debt.since)
        const room = this.rooms.get(s.id)
        const watchers = room === undefined ? [] : [...room.watchers]
        const widgetsBehind = watchers.some((w) => w.lastSeq < s.lastSeq)
        const dashboardSeqs = debt?.kind === 'frames' && this.dashboards.anySees(s.siteId) ? debt.seqs : []
        // a socket not sent any status yet has its first status read queued already
        const widgetsOwedStatus = watchers.some((w) => w.status !== undefined && w.status !== s.status)
        const dashboardsOwedStatus = s.closedAt !== null && this.dashboardsOweStatus(s.id, s.siteId, s.status, s.closedAt)
        if (!widgetsBehind && dashboardSeqs.length === 0 && !widgetsOwedStatus && !dashboardsOwedStatus) continue
        const target = room ?? this.rooms.of(s.id)
        target.siteId = s.siteId
        target.dashboardSeqs.push(...dashboardSeqs)
        if (widgetsBehind || dashboardSeqs.length > 0) this.queueRead(s.id, target)
        // after the read: the status frame follows the messages, as on connect
        if (widgetsOwedStatus || dashboardsOwedStatus) this.queueStatus(s.id, target, s.status, dashboardsOwedStatus)
      }
      for (const e of erasures) this.erased(e.id, e.siteId, e.erasedAt)
      this.opts.observeSweepMs?.(performance.now() - startedMs)
    } catch (err) {
      this.opts.log.warn({ err }, 'sweep for missed notifications failed')
    }
  }
}
