import type { FastifyBaseLogger } from 'fastify'
import type { WebSocket } from 'ws'
import { getUser, userView, type User } from '../chat/users.js'
import { inScope, visibleSites, type SiteScope } from '../chat/visibility.js'
import type { Db } from '../db/client.js'
import { CloseCode, type Peers, type Peer } from './peers.js'

// setTimeout fires at once for delays above 2^31-1 ms; a later expiry closes early and the client simply reconnects
const MAX_TIMER_MS = 2 ** 31 - 1

/** Tells a dashboard that it may have missed events: refetch through the REST API. */
export const RESYNC_FRAME = JSON.stringify({ type: 'resync' })

/** A dashboard socket: whose, the token version it was opened with, and which sites' events it gets. */
type Dashboard = Peer & { userId: string; tokenVersion: number; scope: SiteScope; expiry: NodeJS.Timeout | undefined }

export type DashboardOptions = {
  db: Db
  log: Pick<FastifyBaseLogger, 'warn'>
  /** told when a user with dashboards here changed (re-read after a 'user' event) and may still use them */
  onUserChanged?: (user: User) => void
}

/**
 * This process's dashboard sockets and the one rule of their fan-out: a session's frame
 * reaches the dashboards whose user may see its site (chat/visibility.ts), nothing else.
 */
export class Dashboards {
  private readonly sockets = new Set<Dashboard>()

  constructor(private readonly peers: Peers, private readonly opts: DashboardOptions) {}

  get size(): number {
    return this.sockets.size
  }

  add(socket: WebSocket, user: User, expiresAt: Date | undefined): void {
    const dashboard: Dashboard = { socket, alive: true, userId: user.id, tokenVersion: user.tokenVersion, scope: visibleSites(user), expiry: undefined }
    if (expiresAt) {
      const delayMs = Math.min(Math.max(0, expiresAt.getTime() - Date.now()), MAX_TIMER_MS)
      dashboard.expiry = setTimeout(() => socket.close(CloseCode.unauthorized, 'token expired'), delayMs).unref()
    }
    this.sockets.add(dashboard)
    this.peers.track(dashboard, () => {
      clearTimeout(dashboard.expiry)
      this.sockets.delete(dashboard)
    })
  }

  /** Whether some dashboard here may see this site's sessions (unknown site: assume so). */
  anySees(siteId: string | undefined): boolean {
    for (const d of this.sockets) if (siteId === undefined || inScope(d.scope, siteId)) return true
    return false
  }

  /**
   * The only way a session's frame reaches dashboards: to those that may see its site.
   * Messages, sessions, notes, and any later kind (typing, read receipts) go through here.
   */
  broadcast(siteId: string, frame: string): void {
    for (const d of this.sockets) if (inScope(d.scope, siteId)) this.peers.send(d, frame)
  }

  /** Frames about no session in particular (resync). */
  broadcastAll(frame: string): void {
    for (const d of this.sockets) this.peers.send(d, frame)
  }

  /** Every user with a dashboard here: re-read as after a 'user' event (after a bus reconnect). */
  refreshAll(): void {
    for (const userId of new Set([...this.sockets].map((d) => d.userId))) this.refreshUser(userId)
  }

  /**
   * A user changed: their dashboards here are closed when their tokens no longer hold
   * (disabled, password or role changed), else get what they may see now and a `user.updated` frame.
   */
  refreshUser(userId: string): void {
    const mine = [...this.sockets].filter((d) => d.userId === userId)
    if (mine.length === 0) return
    getUser(this.opts.db, userId).then((user) => {
      // sent only to the user's own open dashboards, so they are online exactly when available
      const frame = user && JSON.stringify({ type: 'user.updated', user: userView(user, true) })
      for (const d of mine) {
        if (!user || !frame || user.disabled || user.tokenVersion !== d.tokenVersion) {
          d.socket.close(CloseCode.unauthorized, 'token revoked')
          continue
        }
        const scope = visibleSites(user)
        const scopeChanged = JSON.stringify(scope) !== JSON.stringify(d.scope)
        d.scope = scope
        this.peers.send(d, frame)
        // its lists were chosen under the old sites: the REST API lists them anew
        if (scopeChanged) this.peers.send(d, RESYNC_FRAME)
      }
      if (user && !user.disabled) this.opts.onUserChanged?.(user)
    }, (err: unknown) => this.opts.log.warn({ err, userId }, 'could not re-read a changed user'))
  }
}
