import type { FastifyBaseLogger } from 'fastify'
import type { WebSocket } from 'ws'
import { ChatError } from '../chat/errors.js'
import { userView, type User } from '../chat/users.js'
import { inScope, visibleSites, type SiteScope } from '../chat/visibility.js'
import type { OriginFrame } from './frames.js'
import { CloseCode, type Peers, type Peer } from './peers.js'

// setTimeout fires at once for delays above 2^31-1 ms; a later expiry closes early and the client simply reconnects
const MAX_TIMER_MS = 2 ** 31 - 1

/** Tells a dashboard that it may have missed events: refetch through the REST API. */
export const RESYNC_FRAME = JSON.stringify({ type: 'resync' })

/** What a dashboard socket authenticated with, and the origin it reached the server at (file URLs start with it). */
export type DashboardAuth = { token: string; tokenHash: string; expiresAt: Date | undefined; origin: string }
/** A dashboard socket: whose (as last re-read), its token, and which sites' events it gets. */
type Dashboard = Peer & DashboardAuth & { user: User; scope: SiteScope; expiry: NodeJS.Timeout | undefined; openedAt: Date }

/**
 * Whether a session frame of this site is for this dashboard: it sees the site (an unknown site:
 * assume so) and, with `openedBefore`, was open by then (one opened later fetched what happened).
 */
const reaches = (d: Dashboard, siteId: string | undefined, openedBefore: Date | undefined) =>
  (openedBefore === undefined || d.openedAt <= openedBefore) && (siteId === undefined || inScope(d.scope, siteId))

export type DashboardOptions = {
  log: Pick<FastifyBaseLogger, 'warn'>
  /** the token's user while the token still holds (not expired, revoked, or its user disabled or changed); rejects otherwise */
  verifyStaffToken: (token: string) => Promise<User>
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

  /**
   * Returns the socket's user as last re-read: what the socket's own frames (typing) act as,
   * so a membership or name change holds for them at once, as for the fan-out.
   */
  add(socket: WebSocket, user: User, auth: DashboardAuth): () => User {
    const dashboard: Dashboard = { socket, alive: true, ...auth, user, scope: visibleSites(user), expiry: undefined, openedAt: new Date() }
    if (auth.expiresAt) {
      const delayMs = Math.min(Math.max(0, auth.expiresAt.getTime() - Date.now()), MAX_TIMER_MS)
      dashboard.expiry = setTimeout(() => socket.close(CloseCode.unauthorized, 'token expired'), delayMs).unref()
    }
    this.sockets.add(dashboard)
    this.peers.track(dashboard, () => {
      clearTimeout(dashboard.expiry)
      this.sockets.delete(dashboard)
    })
    return () => dashboard.user
  }

  /**
   * Whether some dashboard here may see this site's sessions (unknown site: assume so); with
   * `openedBefore`, only one open since before then counts (one opened later fetched what happened).
   */
  anySees(siteId: string | undefined, openedBefore?: Date): boolean {
    for (const d of this.sockets) if (reaches(d, siteId, openedBefore)) return true
    return false
  }

  /**
   * The only way a session's frame reaches dashboards: to those that may see its site.
   * Messages, sessions, notes, and any later kind (typing, read receipts) go through here.
   */
  broadcast(siteId: string, frame: string | OriginFrame, openedBefore?: Date): void {
    for (const d of this.sockets) if (reaches(d, siteId, openedBefore)) this.peers.send(d, typeof frame === 'string' ? frame : frame(d.origin))
  }

  /** A resync for the dashboards of this site open since before `at`: one opened later fetched what happened then. */
  resyncOpenedBefore(siteId: string, at: Date): void {
    this.broadcast(siteId, RESYNC_FRAME, at)
  }

  /** Frames about no session in particular (resync). */
  broadcastAll(frame: string): void {
    for (const d of this.sockets) this.peers.send(d, frame)
  }

  /** A signed-out token's sockets here close. */
  closeToken(tokenHash: string): void {
    for (const d of this.sockets) if (d.tokenHash === tokenHash) d.socket.close(CloseCode.unauthorized, 'signed out')
  }

  /** Every user with a dashboard here: re-checked as after a 'user' event (after a bus reconnect: a lost sign-out or change still ends its sockets). */
  refreshAll(): void {
    for (const userId of new Set([...this.sockets].map((d) => d.user.id))) this.refreshUser(userId)
  }

  /**
   * A user changed: their dashboards here are closed when their tokens no longer hold
   * (signed out, disabled, password or role changed), else get what they may see now and a `user.updated` frame.
   */
  refreshUser(userId: string): void {
    const mine = [...this.sockets].filter((d) => d.user.id === userId)
    if (mine.length === 0) return
    // each socket's own token is checked: it may have been signed out alone
    void Promise.all(mine.map(async (d) => {
      let user: User
      try {
        user = await this.opts.verifyStaffToken(d.token)
      } catch (err) {
        // a database failure is no verdict on the token: the client reconnects and is checked anew
        if (err instanceof ChatError && err.status === 401) d.socket.close(CloseCode.unauthorized, 'token no longer valid')
        else d.socket.close(CloseCode.tryAgainLater, 'temporary failure: reconnect')
        return undefined
      }
      const scope = visibleSites(user)
      const scopeChanged = JSON.stringify(scope) !== JSON.stringify(d.scope)
      d.scope = scope
      d.user = user
      // sent only to the user's own open dashboards, so they are online exactly when available
      this.peers.send(d, JSON.stringify({ type: 'user.updated', user: userView(user, true) }))
      // its lists were chosen under the old sites: the REST API lists them anew
      if (scopeChanged) this.peers.send(d, RESYNC_FRAME)
      return user
    })).then((users) => {
      const user = users.find((u) => u !== undefined)
      if (user) this.opts.onUserChanged?.(user)
    })
  }
}
