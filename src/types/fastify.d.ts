import type { Config } from '../config.js'
import type { Db, Sql } from '../db/client.js'
import type { Session } from '../chat/sessions.js'
import type { Site } from '../chat/sites.js'
import type { User } from '../chat/users.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    db: Db
    sql: Sql
    /** the time as the app sees it (injected in tests: business hours, follow-ups, webhook timestamps) */
    clock: () => Date
  }
  interface FastifyRequest {
    /** set by requireSite / requireSessionCredentials */
    site: Site | null
    /** set by the widget socket route before its upgrade */
    chatSession: Session | null
    /** set by requireStaff */
    staff: User | null
  }
}
