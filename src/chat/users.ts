import { asc, eq, inArray, sql } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { sites, users } from '../db/schema.js'
import { conflict, notFound, validationError } from './errors.js'
import type { Publisher } from '../realtime/bus.js'
import { releaseAssignments } from './assignment.js'
import type { PasswordHashGate } from './password-gate.js'
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from './secrets.js'
import { transaction } from './transaction.js'

export type User = typeof users.$inferSelect
export type Role = User['role']
export type Availability = User['availability']

export type UserView = {
  id: string
  email: string
  name: string
  role: Role
  disabled: boolean
  telegramUserId: number | null
  /** the sites the user works on; null: all */
  siteIds: string[] | null
  availability: Availability
  /** live: a dashboard socket of theirs is open (on any instance) and their availability is online */
  online: boolean
  createdAt: Date
}

/** `connected`: a dashboard of theirs is open somewhere; online needs their stored availability to say so too. */
export function userView(u: User, connected: boolean): UserView {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    disabled: u.disabled,
    telegramUserId: u.telegramUserId,
    siteIds: u.siteIds,
    availability: u.availability,
    online: connected && !u.disabled && u.availability === 'online',
    createdAt: u.createdAt,
  }
}

/**
 * Site ids as stored: unique, in a stable order; each must name a site (400 otherwise). Taken
 * lower-case, as Postgres writes uuids: the admin routes' schemas (http/schemas.ts `Id`)
 * lower-case what clients send, and the CLI sets no sites.
 */
async function checkedSiteIds(db: Executor, siteIds: string[] | null | undefined): Promise<string[] | null | undefined> {
  if (!siteIds) return siteIds
  const unique = [...new Set(siteIds)].sort()
  if (unique.length === 0) return unique
  const found = new Set((await db.select({ id: sites.id }).from(sites).where(inArray(sites.id, unique))).map((r) => r.id))
  const unknown = unique.filter((id) => !found.has(id))
  if (unknown.length) throw validationError(`siteIds: no site ${unknown.join(', ')}`, unknown.map((id) => ({ field: 'siteIds', message: `unknown site ${id}` })))
  return unique
}

export const normaliseEmail = (email: string) => email.trim().toLowerCase()

export async function getUser(db: Executor, id: string): Promise<User | undefined> {
  const [u] = await db.select().from(users).where(eq(users.id, id))
  return u
}

export async function findUserByEmail(db: Executor, email: string): Promise<User | undefined> {
  const [u] = await db.select().from(users).where(eq(users.email, normaliseEmail(email)))
  return u
}

export async function listUsers(db: Executor): Promise<User[]> {
  return db.select().from(users).orderBy(asc(users.createdAt))
}

/**
 * The user for these credentials, or undefined; costs the same whether or not the email
 * exists. The hash runs through `gate` (bounded concurrency, see PasswordHashGate).
 */
export async function authenticate(db: Executor, email: string, password: string, gate: PasswordHashGate): Promise<User | undefined> {
  const user = await findUserByEmail(db, email)
  const ok = await gate.run(() => verifyPassword(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH))
  return ok && user && !user.disabled ? user : undefined
}

export type NewUser = { email: string; name: string; password: string; role: Role; siteIds?: string[] | null }

/**
 * `hash` makes the stored password hash: scrypt with a salt of its own (hashPassword), unless the
 * caller has one for this password already (the tests make hundreds of users with one password,
 * at ~50–150 ms of CPU per hash).
 */
export async function createUser(db: Executor, input: NewUser, hash: (password: string) => Promise<string> = hashPassword): Promise<User> {
  const siteIds = await checkedSiteIds(db, input.siteIds)
  const [user] = await db.insert(users).values({
    email: normaliseEmail(input.email),
    name: input.name,
    role: input.role,
    passwordHash: await hash(input.password),
    siteIds: siteIds ?? null,
  }).onConflictDoNothing().returning()
  if (!user) throw conflict('A user with this email exists')
  return user
}

export type UserPatch = {
  name?: string
  role?: Role
  password?: string
  disabled?: boolean
  telegramUserId?: number | null
  siteIds?: string[] | null
  availability?: Availability
}

/**
 * Every change is announced (a 'user' event): each instance re-reads the user for its open
 * dashboards (what they may see, presence), and closes them when the change revokes tokens.
 * A user taken off a site, or disabled, gives back their open chats there in the same
 * transaction (chat/assignment.ts).
 */
export async function updateUser(db: Executor, events: Publisher, id: string, patch: UserPatch): Promise<User> {
  const { password, siteIds, ...rest } = patch
  const set: Partial<typeof users.$inferInsert> = { ...rest }
  if (password !== undefined) set.passwordHash = await hashPassword(password)
  if (siteIds !== undefined) set.siteIds = (await checkedSiteIds(db, siteIds)) ?? null
  // tokens issued before a password change, a role change or disabling stop working
  const revokes = password !== undefined || patch.disabled === true || patch.role !== undefined
  const releases = siteIds !== undefined || patch.disabled === true
  const update = async (tx: Executor, txEvents: Publisher) => {
    const [user] = await tx.update(users)
      .set({ ...set, updatedAt: sql`now()`, ...(revokes ? { tokenVersion: sql`${users.tokenVersion} + 1` } : {}) })
      .where(eq(users.id, id)).returning()
    if (!user) throw notFound('User')
    if (releases) await releaseAssignments(tx, txEvents, user)
    txEvents.publish({ k: 'user', user: user.id })
    return user
  }
  return releases ? transaction(db, events, update) : update(db, events)
}

/** Bootstrap from configuration: this admin exists, is enabled and has this password. */
export async function ensureAdmin(db: Executor, events: Publisher, email: string, password: string): Promise<{ user: User; created: boolean }> {
  const existing = await findUserByEmail(db, email)
  if (!existing) return { user: await createUser(db, { email, password, name: 'Admin', role: 'admin' }), created: true }
  const patch: UserPatch = {}
  if (existing.role !== 'admin') patch.role = 'admin'
  if (existing.disabled) patch.disabled = false
  if (!(await verifyPassword(password, existing.passwordHash))) patch.password = password
  const user = Object.keys(patch).length ? await updateUser(db, events, existing.id, patch) : existing
  return { user, created: false }
}

/** The enabled user linked to this Telegram account (users.telegramUserId), if any. */
export async function findUserByTelegramId(db: Executor, telegramUserId: number): Promise<User | undefined> {
  const [u] = await db.select().from(users).where(eq(users.telegramUserId, telegramUserId))
  return u && !u.disabled ? u : undefined
}

export type Membership = Pick<User, 'id' | 'siteIds' | 'disabled'>

/** Where these users work, for presence-based answers (who is available on a site). */
export async function membershipsOf(db: Executor, ids: string[]): Promise<Membership[]> {
  if (ids.length === 0) return []
  return db.select({ id: users.id, siteIds: users.siteIds, disabled: users.disabled }).from(users).where(inArray(users.id, ids))
}
