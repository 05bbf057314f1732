import { count, eq } from 'drizzle-orm'
import type { Config } from './config.js'
import type { Db } from './db/client.js'
import type { Publisher } from './realtime/bus.js'
import { sites, users } from './db/schema.js'
import { randomToken } from './chat/secrets.js'
import type { SecretBox } from './chat/secret-box.js'
import { createSite, ensureSite, updateSite, type Site } from './chat/sites.js'
import { createUser, ensureAdmin } from './chat/users.js'

export const DEMO_ADMIN_EMAIL = 'admin@example.com'

export type BootstrapReport = {
  admin: { email: string; password?: string; created: boolean; demo: boolean } | undefined
  site: { site: Site; apiSecret?: string; created: boolean; demo: boolean } | undefined
}

/**
 * Makes sure the configured admin and site exist; with none configured and none in the
 * database, creates a demo admin and a demo site (open to every origin outside production) and returns their
 * one-time secrets for the console.
 */
export async function bootstrap(db: Db, events: Publisher, box: SecretBox, config: Config): Promise<BootstrapReport> {
  const report: BootstrapReport = { admin: undefined, site: undefined }
  if (config.adminEmail && config.adminPassword) {
    const { user, created } = await ensureAdmin(db, events, config.adminEmail, config.adminPassword)
    report.admin = { email: user.email, created, demo: false }
  } else {
    const [admins] = await db.select({ n: count() }).from(users).where(eq(users.role, 'admin'))
    if (!admins?.n) {
      const password = randomToken('', 12)
      const user = await createUser(db, { email: DEMO_ADMIN_EMAIL, name: 'Demo Admin', password, role: 'admin' })
      report.admin = { email: user.email, password, created: true, demo: true }
    }
  }
  const telegram = config.telegramBotToken && config.telegramChatId
    ? { telegramBotToken: config.telegramBotToken, telegramChatId: config.telegramChatId }
    : {}
  if (config.siteApiKey) {
    // a secret set by configuration is the original guide's set-up, whose widget ships it in page code
    const legacy = config.siteApiSecret !== undefined ? { legacyBrowserSecret: true } : {}
    const r = await ensureSite(db, box, { name: 'Main site', apiKey: config.siteApiKey, apiSecret: config.siteApiSecret, origins: config.siteOrigins, ...telegram, ...legacy })
    // a secret the operator configured is theirs already: never echo it
    report.site = { site: r.site, created: r.created, apiSecret: config.siteApiSecret ? undefined : r.apiSecret, demo: false }
  } else {
    const [existing] = await db.select().from(sites).orderBy(sites.createdAt).limit(1)
    if (existing) {
      // Telegram configured after the first start (README's five steps) reaches the site the console names, as it does the SITE_API_KEY one
      const site = 'telegramBotToken' in telegram ? await updateSite(db, events, box, existing.id, telegram) : existing
      report.site = { site, created: false, demo: false }
    } else {
      // open to every origin outside production (SITE_ORIGINS' default), to none in production unless set
      const { site, apiSecret } = await createSite(db, box, { name: 'Demo site', origins: config.siteOrigins, ...telegram })
      report.site = { site, apiSecret, created: true, demo: true }
    }
  }
  return report
}
