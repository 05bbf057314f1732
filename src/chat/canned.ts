import { and, asc, eq, isNull, or, sql, type SQL } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { cannedResponses, sites } from '../db/schema.js'
import { conflict, notFound, validationError } from './errors.js'
import { isUuid } from './ids.js'
import { assertMessageText } from './messages.js'
import { inScope, scopeCondition, visibleSites, type Viewer } from './visibility.js'

/**
 * Canned responses: ready answers staff insert with `/shortcut`. Shared by every site
 * (siteId null) or one site's; a shortcut is unique within its scope. Admins manage them,
 * every user lists those of the sites they see.
 */

export type Canned = typeof cannedResponses.$inferSelect
export type CannedView = Pick<Canned, 'id' | 'siteId' | 'shortcut' | 'text' | 'createdAt' | 'updatedAt'>

export const SHORTCUT_PATTERN = '^[a-z0-9_-]{1,32}$'

export const cannedView = (c: Canned): CannedView => ({ id: c.id, siteId: c.siteId, shortcut: c.shortcut, text: c.text, createdAt: c.createdAt, updatedAt: c.updatedAt })

function isShortcutTaken(err: unknown): boolean {
  const e = err as { code?: string; constraint_name?: string; cause?: unknown }
  return (e?.code === '23505' && /^canned_(site|shared)_shortcut_uq$/.test(e.constraint_name ?? '')) || (e?.cause !== undefined && isShortcutTaken(e.cause))
}

async function assertSiteExists(db: Executor, siteId: string | null): Promise<void> {
  if (siteId === null) return
  const [site] = await db.select({ id: sites.id }).from(sites).where(eq(sites.id, siteId))
  if (!site) throw validationError(`siteId: no site ${siteId}`, [{ field: 'siteId', message: 'unknown site' }])
}

/** A write whose shortcut is taken in its scope is a 409 CONFLICT. */
async function guarded<T>(shortcut: string | undefined, write: () => Promise<T>): Promise<T> {
  try {
    return await write()
  } catch (err) {
    if (isShortcutTaken(err)) throw conflict(shortcut ? `The shortcut "${shortcut}" is taken in this scope` : 'The shortcut is taken in this scope')
    throw err
  }
}

export type CannedInput = { shortcut: string; text: string; siteId: string | null }

export async function createCanned(db: Executor, input: CannedInput): Promise<Canned> {
  assertMessageText(input.text)
  await assertSiteExists(db, input.siteId)
  const [row] = await guarded(input.shortcut, () => db.insert(cannedResponses).values(input).returning())
  if (!row) throw new Error('canned response insert returned nothing')
  return row
}

export async function updateCanned(db: Executor, id: string, patch: Partial<CannedInput>): Promise<Canned> {
  if (!isUuid(id)) throw notFound('Canned response')
  if (patch.text !== undefined) assertMessageText(patch.text)
  if (patch.siteId !== undefined) await assertSiteExists(db, patch.siteId)
  const [row] = await guarded(patch.shortcut, () => db.update(cannedResponses).set({ ...patch, updatedAt: sql`now()` }).where(eq(cannedResponses.id, id)).returning())
  if (!row) throw notFound('Canned response')
  return row
}

export async function deleteCanned(db: Executor, id: string): Promise<void> {
  const deleted = isUuid(id) ? await db.delete(cannedResponses).where(eq(cannedResponses.id, id)).returning({ id: cannedResponses.id }) : []
  if (deleted.length === 0) throw notFound('Canned response')
}

/**
 * The shared ones and, with `siteId`, that site's (what a reply in its conversations may
 * use; a site the viewer does not see is a 404), without it those of every site the viewer
 * sees. By shortcut.
 */
export async function listCanned(db: Executor, viewer: Viewer, siteId?: string): Promise<Canned[]> {
  const scope = visibleSites(viewer)
  let ofSites: SQL
  if (siteId !== undefined) {
    if (!inScope(scope, siteId)) throw notFound('Site')
    const [site] = await db.select({ id: sites.id }).from(sites).where(eq(sites.id, siteId))
    if (!site) throw notFound('Site')
    ofSites = eq(cannedResponses.siteId, siteId)
  } else {
    ofSites = scopeCondition(scope, cannedResponses.siteId)
  }
  return db.select().from(cannedResponses)
    .where(or(isNull(cannedResponses.siteId), and(sql`${cannedResponses.siteId} is not null`, ofSites)))
    .orderBy(asc(cannedResponses.shortcut), asc(cannedResponses.siteId))
}
