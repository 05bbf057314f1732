import type { RecentSession } from '../chat/recent-changes.js'
import type { Session } from '../chat/sessions.js'
import { MAX_PAGE } from '../chat/messages.js'

/** What the sweep found dashboards here owed for one session. */
export type DashboardDebt =
  /** seqs to read and send as `message.created` frames */
  | { kind: 'frames'; seqs: number[] }
  /** too much, or a session never heard of: its dashboards refetch through the REST API */
  | { kind: 'resync'; since: Date }

/**
 * Per recently active session, which seqs this process has announced to its dashboards (from
 * a notification or from the sweep): every one up to `floor`, and those in `above` beyond it.
 * Dashboards hold no lastSeq of their own the way a widget socket does, so a lost
 * notification is found by comparing the stored lastSeq with the floor; an announcement the
 * sweep already made is not made again. Not a single high mark: the bus keeps order per
 * publishing instance only, so seq 5 may be heard before seq 4, and 4 is still owed.
 * That holds for the first word heard of a session too: the seqs below it are taken as
 * told (their notifications passed before this process listened or had dashboards), but
 * one whose notification comes after it was written beside it through another instance,
 * and is owed (`early`: the first word's seq; `late`: those below it told since).
 */
type Mark = { floor: number; above: Set<number>; sweep: number; early?: number; late?: Set<number> }

/**
 * Per recently changed session, the status its dashboards here were last sent (by a
 * `session.*` frame): the sweep sends a recent close again only when it is not this.
 */
type StatusMark = { status: Session['status']; sweep: number }

/** Per recently erased session: its dashboards here were sent `session.erased`. */
type ErasedMark = { sweep: number }

/** A seq below a session's first word, heard after it: owed once (a notification sent twice is not sent twice). */
function lateFirstTime(mark: Mark, seq: number): boolean {
  mark.late ??= new Set()
  if (mark.late.has(seq)) return false
  mark.late.add(seq)
  return true
}

export class DashboardMarks {
  private readonly marks = new Map<string, Mark>()
  private readonly statuses = new Map<string, StatusMark>()
  private readonly erased = new Map<string, ErasedMark>()
  private sweeps = 0

  /** A notification reached this process; true when dashboards have not been told of `seq` yet. */
  announce(sessionId: string, seq: number): boolean {
    // the first word of a session: what came before it is not this process's to announce
    const mark = this.marks.get(sessionId) ?? { floor: Math.max(0, seq - 1), above: new Set<number>(), sweep: this.sweeps, early: seq }
    this.marks.set(sessionId, mark)
    mark.sweep = this.sweeps
    if (mark.early !== undefined && seq < mark.early) return lateFirstTime(mark, seq)
    if (seq <= mark.floor || mark.above.has(seq)) return false
    mark.above.add(seq)
    while (mark.above.delete(mark.floor + 1)) mark.floor++
    return true
  }

  /** Dashboards here were sent the session with this status. */
  announceStatus(sessionId: string, status: Session['status']): void {
    this.statuses.set(sessionId, { status, sweep: this.sweeps })
  }

  statusAnnounced(sessionId: string, status: Session['status']): boolean {
    return this.statuses.get(sessionId)?.status === status
  }

  /** Dashboards here are sent the session's erasure; false when they were already. */
  announceErased(sessionId: string): boolean {
    const first = !this.erased.has(sessionId)
    this.erased.set(sessionId, { sweep: this.sweeps })
    return first
  }

  /** Called before the sweep's query: marks set from here on survive this sweep's pruning. */
  startSweep(): void {
    this.sweeps++
  }

  /**
   * The sweep's sessions: what dashboards are owed for each, and the marks moved up to the
   * stored lastSeq. A mark for a session that left the window (and was not set meanwhile) is
   * forgotten, so the maps hold recently active, closed or erased sessions only.
   */
  settle(sessions: RecentSession[], erasedIds: string[]): Map<RecentSession, DashboardDebt> {
    const owed = new Map<RecentSession, DashboardDebt>()
    const present = new Set<string>(erasedIds)
    for (const s of sessions) {
      present.add(s.id)
      // only its close is recent: its messages were settled while they were
      if (!s.active) continue
      const mark = this.marks.get(s.id)
      if (mark !== undefined && mark.floor >= s.lastSeq) continue
      this.marks.set(s.id, { ...mark, floor: s.lastSeq, above: new Set([...mark?.above ?? []].filter((seq) => seq > s.lastSeq)), sweep: this.sweeps })
      if (mark === undefined || s.lastSeq - mark.floor > MAX_PAGE) {
        // no mark: nothing about it reached this process while it was active, so a
        // dashboard that was open then missed it all (one opened later fetched it)
        owed.set(s, { kind: 'resync', since: s.activeAt })
        continue
      }
      const seqs = Array.from({ length: s.lastSeq - mark.floor }, (_, i) => mark.floor + 1 + i).filter((seq) => !mark.above.has(seq))
      if (seqs.length > 0) owed.set(s, { kind: 'frames', seqs })
    }
    for (const marks of [this.marks, this.statuses, this.erased]) {
      for (const [id, mark] of marks) if (!present.has(id) && mark.sweep < this.sweeps) marks.delete(id)
    }
    return owed
  }

  /** No dashboards here: nothing is owed to anyone, and a dashboard that opens fetches everything. */
  clear(): void {
    this.marks.clear()
    this.statuses.clear()
    this.erased.clear()
  }
}
