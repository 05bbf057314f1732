import type { FastifyBaseLogger } from 'fastify'
import { recentlyActiveSessions } from '../chat/sessions.js'
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
 * lastSeq is ahead of what its dashboards were told (DashboardMarks).
 */
export class Sweep {
  private readonly marks = new DashboardMarks()
  private readonly timer: NodeJS.Timeout

  constructor(
    private readonly opts: { db: Db; sweepMs: number; log: Pick<FastifyBaseLogger, 'warn'> },
    private readonly rooms: Rooms,
    private readonly dashboards: Dashboards,
    /** has the hub read the room's session after its sockets' lastSeq and the room's dashboardSeqs */
    private readonly queueRead: (sessionId: string, room: Room) => void,
  ) {
    this.timer = setInterval(() => void this.run(), opts.sweepMs).unref()
  }

  /** A notification of `seq` reached this process; true when its dashboards have not been told of it yet. */
  announce(sessionId: string, seq: number): boolean {
    return this.dashboards.size > 0 && this.marks.announce(sessionId, seq)
  }

  stop(): void {
    clearInterval(this.timer)
  }

  private async run(): Promise<void> {
    if (this.dashboards.size === 0) this.marks.clear()
    if (this.rooms.size === 0 && this.dashboards.size === 0) return
    try {
      this.marks.startSweep()
      const sessions = await recentlyActiveSessions(this.opts.db, this.opts.sweepMs * SWEEP_WINDOW_FACTOR)
      const owed = this.dashboards.size > 0 ? this.marks.settle(sessions) : new Map()
      for (const s of sessions) {
        const debt = owed.get(s)
        if (debt?.kind === 'resync') this.dashboards.resyncOpenedBefore(s.siteId, debt.since)
        const room = this.rooms.get(s.id)
        const widgetsBehind = room !== undefined && [...room.watchers].some((w) => w.lastSeq < s.lastSeq)
        const dashboardSeqs = debt?.kind === 'frames' && this.dashboards.anySees(s.siteId) ? debt.seqs : []
        if (!widgetsBehind && dashboardSeqs.length === 0) continue
        const target = room ?? this.rooms.of(s.id)
        target.siteId = s.siteId
        target.dashboardSeqs.push(...dashboardSeqs)
        this.queueRead(s.id, target)
      }
    } catch (err) {
      this.opts.log.warn({ err }, 'sweep for missed notifications failed')
    }
  }
}
