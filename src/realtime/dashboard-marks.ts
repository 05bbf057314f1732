import type { RecentSession } from '../chat/sessions.js'
import { MAX_PAGE } from '../chat/messages.js'

/** What the sweep found dashboards here owed for one session. */
export type DashboardDebt =
  /** seqs to read and send as `message.created` frames */
  | { kind: 'frames'; seqs: number[] }
  /** too much, or a session never heard of: its dashboards refetch through the REST API */
  | { kind: 'resync'; since: Date }

/**
 * Per recently active session, the highest seq this process has announced to its dashboards
 * (from a notification or from the sweep). Dashboards hold no lastSeq of their own the way a
 * widget socket does, so a lost notification is found by comparing the stored lastSeq with
 * this mark; an announcement below the mark is one the sweep already made (no duplicate).
 */
export class DashboardMarks {
  private readonly marks = new Map<string, { seq: number; sweep: number }>()
  private sweeps = 0

  /** A notification reached this process; true when dashboards have not been told of `seq` yet. */
  announce(sessionId: string, seq: number): boolean {
    const mark = this.marks.get(sessionId)
    if (mark !== undefined && mark.seq >= seq) return false
    this.marks.set(sessionId, { seq, sweep: this.sweeps })
    return true
  }

  /** Called before the sweep's query: marks set from here on survive this sweep's pruning. */
  startSweep(): void {
    this.sweeps++
  }

  /**
   * The sweep's sessions: what dashboards are owed for each, and the marks moved up to the
   * stored lastSeq. A mark for a session that left the window (and was not set meanwhile) is
   * forgotten, so the map holds recently active sessions only.
   */
  settle(sessions: RecentSession[]): Map<RecentSession, DashboardDebt> {
    const owed = new Map<RecentSession, DashboardDebt>()
    const present = new Set<string>()
    for (const s of sessions) {
      present.add(s.id)
      const mark = this.marks.get(s.id)
      if (mark !== undefined && mark.seq >= s.lastSeq) continue
      this.marks.set(s.id, { seq: s.lastSeq, sweep: this.sweeps })
      if (mark === undefined || s.lastSeq - mark.seq > MAX_PAGE) {
        // no mark: nothing about it reached this process while it was active, so a
        // dashboard that was open then missed it all (one opened later fetched it)
        owed.set(s, { kind: 'resync', since: s.activeAt })
      } else {
        owed.set(s, { kind: 'frames', seqs: Array.from({ length: s.lastSeq - mark.seq }, (_, i) => mark.seq + 1 + i) })
      }
    }
    for (const [id, mark] of this.marks) if (!present.has(id) && mark.sweep < this.sweeps) this.marks.delete(id)
    return owed
  }

  /** No dashboards here: nothing is owed to anyone, and a dashboard that opens fetches everything. */
  clear(): void {
    this.marks.clear()
  }
}
