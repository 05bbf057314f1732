import { eq, lt, sql } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
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

/** The user a token names, and whether that token was signed out; one indexed read. */
export async function staffForToken(db: Executor, userId: string, tokenHash: string): Promise<{ user: User; revoked: boolean } | undefined> {
  const [row] = await db.select({
    user: users,
    revoked: sql<boolean>`exists (select 1 from ${revokedTokens} r where r.token_hash = ${tokenHash})`,
  }).from(users).where(eq(users.id, userId))
  return row
}
