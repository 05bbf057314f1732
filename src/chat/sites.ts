import { asc, eq, sql } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { sites, type BotSettings } from '../db/schema.js'
import { conflict, notFound } from './errors.js'
import type { Publisher } from '../realtime/bus.js'
import { hashToken, randomToken, sameHash } from './secrets.js'
import type { SecretBox } from './secret-box.js'
import { botIdOf } from '../telegram/client.js'

export type Site = typeof sites.$inferSelect

export type SiteView = {
  id: string
  name: string
  apiKey: string
  origins: string[]
  legacyBrowserSecret: boolean
  telegram: { chatId: string | null; botTokenSet: boolean; botTokenHint: string | null; anyMember: boolean }
  bot: BotSettings | null
  retentionDays: number | null
  autoAssign: { enabled: boolean; maxOpenPerAgent: number }
  createdAt: Date
  updatedAt: Date
}

/** The bot token is a secret (stored sealed): only the bot's id, the token's public part, ever leaves the server. */
export function siteView(site: Site): SiteView {
  return {
    id: site.id,
    name: site.name,
    apiKey: site.apiKey,
    origins: site.origins,
    legacyBrowserSecret: site.legacyBrowserSecret,
    telegram: {
      chatId: site.telegramChatId,
      botTokenSet: site.telegramBotToken !== null,
      botTokenHint: site.telegramBotToken ? `${site.telegramBotId ?? ''}:…` : null,
      anyMember: site.telegramAnyMember,
    },
    bot: site.bot,
    retentionDays: site.retentionDays,
    autoAssign: { enabled: site.autoAssign, maxOpenPerAgent: site.maxOpenPerAgent },
    createdAt: site.createdAt,
    updatedAt: site.updatedAt,
  }
}

export const newApiKey = () => randomToken('pk_', 18)
export const newApiSecret = () => randomToken('sk_', 32)

export function siteSecretMatches(site: Site, secret: string): boolean {
  return sameHash(hashToken(secret), site.apiSecretHash)
}

/** Browsers send `https://shop.example` (scheme and host lower-case); operators often type `https://Shop.Example/`. */
export const normaliseOrigin = (origin: string) => origin.trim().replace(/\/+$/, '').toLowerCase()

/** `*` allows every origin; otherwise an exact match of scheme://host[:port]. */
export function originAllowed(site: Pick<Site, 'origins'>, origin: string): boolean {
  return site.origins.includes('*') || site.origins.includes(normaliseOrigin(origin))
}

export type SiteInput = {
  name: string
  origins: string[]
  /** in the clear; stored sealed */
  telegramBotToken?: string | null
  telegramChatId?: string | null
  telegramAnyMember?: boolean
  legacyBrowserSecret?: boolean
  bot?: BotSettings | null
  retentionDays?: number | null
  autoAssign?: boolean
  maxOpenPerAgent?: number
}

/** The columns a bot token is stored in: the token sealed, the bot id in the clear. */
function botTokenColumns(box: SecretBox, token: string | null): Pick<Site, 'telegramBotToken' | 'telegramBotId'> {
  return token === null
    ? { telegramBotToken: null, telegramBotId: null }
    : { telegramBotToken: box.seal(token, 'telegram-bot-token'), telegramBotId: botIdOf(token) }
}

/** The row's columns for a patch: origins normalised, the bot token sealed. */
function siteColumns(box: SecretBox, patch: Partial<SiteInput>): Partial<typeof sites.$inferInsert> {
  const { telegramBotToken, origins, ...rest } = patch
  return {
    ...rest,
    ...(origins ? { origins: origins.map(normaliseOrigin) } : {}),
    ...(telegramBotToken !== undefined ? botTokenColumns(box, telegramBotToken) : {}),
  }
}

/** The site's bot token in the clear, or null. */
export const siteBotToken = (box: SecretBox, site: Pick<Site, 'telegramBotToken'>) =>
  site.telegramBotToken === null ? null : box.open(site.telegramBotToken, 'telegram-bot-token')

export async function findSiteByApiKey(db: Executor, apiKey: string): Promise<Site | undefined> {
  const [site] = await db.select().from(sites).where(eq(sites.apiKey, apiKey))
  return site
}

export async function getSite(db: Executor, id: string): Promise<Site> {
  const [site] = await db.select().from(sites).where(eq(sites.id, id))
  if (!site) throw notFound('Site')
  return site
}

/** The first site created: the demo page's site when SITE_API_KEY is not set. */
export async function findOldestSite(db: Executor): Promise<Site | undefined> {
  const [site] = await db.select().from(sites).orderBy(asc(sites.createdAt)).limit(1)
  return site
}

export async function listSites(db: Executor): Promise<Site[]> {
  return db.select().from(sites).orderBy(asc(sites.createdAt))
}

/** A new site (a key some instance had cached as unknown works there within a second). */
export async function createSite(
  db: Executor,
  box: SecretBox,
  input: SiteInput & { apiKey?: string; apiSecret?: string },
): Promise<{ site: Site; apiSecret: string }> {
  const { apiKey, apiSecret: givenSecret, ...fields } = input
  const apiSecret = givenSecret ?? newApiSecret()
  const [site] = await db.insert(sites).values({
    telegramChatId: null,
    bot: null,
    ...siteColumns(box, fields),
    name: input.name,
    origins: input.origins.map(normaliseOrigin),
    apiKey: apiKey ?? newApiKey(),
    apiSecretHash: hashToken(apiSecret),
  }).onConflictDoNothing().returning()
  if (!site) throw conflict('A site with this API key exists')
  return { site, apiSecret }
}

export async function updateSite(db: Executor, events: Publisher, box: SecretBox, id: string, patch: Partial<SiteInput>): Promise<Site> {
  const [site] = await db.update(sites).set({ ...siteColumns(box, patch), updatedAt: sql`now()` }).where(eq(sites.id, id)).returning()
  if (!site) throw notFound('Site')
  events.publish({ k: 'site', site: site.id })
  return site
}

/** New key and secret; the old ones stop working at once on every instance (a 'site' event drops caches). */
export async function rotateSiteCredentials(db: Executor, events: Publisher, id: string): Promise<{ site: Site; apiSecret: string }> {
  const apiSecret = newApiSecret()
  const [site] = await db.update(sites)
    .set({ apiKey: newApiKey(), apiSecretHash: hashToken(apiSecret), updatedAt: sql`now()` })
    .where(eq(sites.id, id)).returning()
  if (!site) throw notFound('Site')
  events.publish({ k: 'site', site: site.id })
  return { site, apiSecret }
}

/** Bootstrap from configuration: the site with this key exists and matches the given settings. */
export async function ensureSite(
  db: Executor,
  box: SecretBox,
  input: SiteInput & { apiKey: string; apiSecret?: string },
): Promise<{ site: Site; created: boolean; apiSecret?: string }> {
  const existing = await findSiteByApiKey(db, input.apiKey)
  if (!existing) {
    const { site, apiSecret } = await createSite(db, box, input)
    return { site, created: true, apiSecret }
  }
  const patch: Partial<typeof sites.$inferInsert> = siteColumns(box, {
    origins: input.origins,
    ...(input.telegramBotToken !== undefined ? { telegramBotToken: input.telegramBotToken } : {}),
    ...(input.telegramChatId !== undefined ? { telegramChatId: input.telegramChatId } : {}),
    ...(input.legacyBrowserSecret !== undefined ? { legacyBrowserSecret: input.legacyBrowserSecret } : {}),
  })
  if (input.apiSecret !== undefined) patch.apiSecretHash = hashToken(input.apiSecret)
  const [site] = await db.update(sites).set({ ...patch, updatedAt: sql`now()` }).where(eq(sites.id, existing.id)).returning()
  return { site: site ?? existing, created: false }
}
