import { eq, sql } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { appSettings } from '../db/schema.js'
import type { SecretBox } from './secret-box.js'

export async function getSetting(db: Executor, key: string): Promise<string | undefined> {
  const [row] = await db.select({ value: appSettings.value }).from(appSettings).where(eq(appSettings.key, key))
  return row?.value
}

export async function setSetting(db: Executor, key: string, value: string): Promise<void> {
  await db.insert(appSettings).values({ key, value })
    .onConflictDoUpdate({ target: appSettings.key, set: { value, updatedAt: sql`now()` } })
}

/** The stored value, or `make()` stored atomically: every instance ends up with the same one. */
export async function getOrCreateSetting(db: Executor, key: string, make: () => string): Promise<string> {
  await db.insert(appSettings).values({ key, value: make() }).onConflictDoNothing()
  const value = await getSetting(db, key)
  if (value === undefined) throw new Error(`setting ${key} vanished`)
  return value
}

/** Like getOrCreateSetting for a secret: stored sealed (see SecretBox), returned in the clear. */
export async function getOrCreateSecretSetting(db: Executor, box: SecretBox, key: string, make: () => string): Promise<string> {
  return box.open(await getOrCreateSetting(db, key, () => box.seal(make(), 'setting')), 'setting')
}
