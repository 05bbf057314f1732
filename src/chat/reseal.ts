import { eq, inArray, isNotNull } from 'drizzle-orm'
import type { Db } from '../db/client.js'
import { appSettings, sites, webhooks } from '../db/schema.js'
import type { SecretBox, SecretPurpose } from './secret-box.js'
import { botIdOf } from '../telegram/client.js'

/** The settings that hold secrets (the rest, such as Telegram offsets, are not). */
export const SECRET_SETTINGS = ['jwt_secret', 'session_token_secret']

export type ResealReport = { settings: number; sites: number; webhooks: number }

/**
 * Seals every stored secret with the current key: values older releases stored in plain
 * text, and values sealed with SECRETS_KEY_PREVIOUS during a key rotation. Idempotent; one
 * transaction, so a failure (a key missing) changes nothing.
 */
export async function resealSecrets(db: Db, box: SecretBox): Promise<ResealReport> {
  if (!box.enabled) throw new Error('No key to seal with: set SECRETS_KEY (or JWT_SECRET)')
  const reseal = (stored: string, purpose: SecretPurpose) => box.seal(box.open(stored, purpose), purpose)
  return db.transaction(async (tx) => {
    const report: ResealReport = { settings: 0, sites: 0, webhooks: 0 }
    for (const row of await tx.select().from(appSettings).where(inArray(appSettings.key, SECRET_SETTINGS))) {
      if (box.isCurrent(row.value)) continue
      await tx.update(appSettings).set({ value: reseal(row.value, 'setting') }).where(eq(appSettings.key, row.key))
      report.settings++
    }
    for (const site of await tx.select().from(sites).where(isNotNull(sites.telegramBotToken))) {
      if (site.telegramBotToken === null || box.isCurrent(site.telegramBotToken)) continue
      const token = box.open(site.telegramBotToken, 'telegram-bot-token')
      await tx.update(sites).set({ telegramBotToken: box.seal(token, 'telegram-bot-token'), telegramBotId: botIdOf(token) }).where(eq(sites.id, site.id))
      report.sites++
    }
    for (const hook of await tx.select().from(webhooks)) {
      if (box.isCurrent(hook.secret)) continue
      await tx.update(webhooks).set({ secret: reseal(hook.secret, 'webhook-secret') }).where(eq(webhooks.id, hook.id))
      report.webhooks++
    }
    return report
  })
}
