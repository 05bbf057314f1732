import { eq, lt, sql } from 'drizzle-orm'
import type { Db, Executor } from '../db/client.js'
import { revokedTokens, users } from '../db/schema.js'
import type { Publisher } from '../realtime/bus.js'
import { hashToken } from './secrets.js'
import type { User } from './users.js'

/** Tokens are kept by their hash: the table never holds a usable token. */
export const staffTokenHash = (token: string) => hashToken(token)

/**
 * Signs a token out for good, on every instance: the row makes every later check refuse it
 * (each request reads it), and the event, published once the row is committed, closes its
 * dashboard sockets. Rows of tokens that have expired anyway go.
 */
export async function revokeStaffToken(db: Executor, events: Publisher, token: string, userId: string, expiresAt: Date): Promise<void> {
  const tokenHash = staffTokenHash(token)
  await db.insert(revokedTokens).values({ tokenHash, userId, expiresAt }).onConflictDoNothing()
  events.publish({ k: 'revoked', user: userId, token: tokenHash })
  await db.delete(revokedTokens).where(lt(revokedTokens.expiresAt, sql`now()`))
}

const staffQuery = (db: Db) => db.select({
  user: users,
  revoked: sql<boolean>`exists (select 1 from ${revokedTokens} r where r.token_hash = ${sql.placeholder('tokenHash')})`,
}).from(users).where(eq(users.id, sql.placeholder('userId'))).prepare('staff_for_token')

// built once per pool: every staff request runs it, and building it with drizzle each time
// cost several times the CPU of mapping its one row
const staffQueries = new WeakMap<Db, ReturnType<typeof staffQuery>>()

/** The user a token names, and whether that token was signed out; one indexed read, prepared. */
export async function staffForToken(db: Db, userId: string, tokenHash: string): Promise<{ user: User; revoked: boolean } | undefined> {
  let query = staffQueries.get(db)
  if (query === undefined) staffQueries.set(db, (query = staffQuery(db)))
  const [row] = await query.execute({ userId, tokenHash })
  return row
}
