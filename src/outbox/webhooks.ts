import { createHmac } from 'node:crypto'
import { and, asc, eq } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { webhooks } from '../db/schema.js'
import { notFound } from '../chat/errors.js'
import { randomToken } from '../chat/secrets.js'
import type { OutboxRow } from './store.js'
import { DeliveryError, type Deliver } from './worker.js'
import type { WebhookEvent } from './enqueue.js'

export type Webhook = typeof webhooks.$inferSelect

export const SIGNATURE_HEADER = 'x-webhook-signature'
export const TIMESTAMP_HEADER = 'x-webhook-timestamp'
export const EVENT_ID_HEADER = 'x-webhook-id'

export type WebhookView = Omit<Webhook, 'secret'> & { secretHint: string }

/** The signing secret is shown once, at creation; afterwards only its end. */
export function webhookView(w: Webhook): WebhookView {
  const { secret, ...rest } = w
  return { ...rest, secretHint: `…${secret.slice(-4)}` }
}

export async function createWebhook(db: Executor, siteId: string, url: string, events: WebhookEvent[]): Promise<Webhook> {
  const [w] = await db.insert(webhooks).values({ siteId, url, events, secret: randomToken('whsec_', 32) }).returning()
  if (!w) throw new Error('webhook insert returned nothing')
  return w
}

export async function listWebhooks(db: Executor, siteId: string): Promise<Webhook[]> {
  return db.select().from(webhooks).where(eq(webhooks.siteId, siteId)).orderBy(asc(webhooks.createdAt))
}

export async function getWebhook(db: Executor, id: string): Promise<Webhook> {
  const [w] = await db.select().from(webhooks).where(eq(webhooks.id, id))
  if (!w) throw notFound('Webhook')
  return w
}

/** Deleting a webhook also drops its queued and logged deliveries (foreign key cascade). */
export async function deleteWebhook(db: Executor, siteId: string, id: string): Promise<Webhook> {
  const [w] = await db.delete(webhooks).where(and(eq(webhooks.id, id), eq(webhooks.siteId, siteId))).returning()
  if (!w) throw notFound('Webhook')
  return w
}

/** `v1=` + hex HMAC-SHA256 of `${timestamp}.${body}` under the webhook's secret. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return 'v1=' + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')
}

/** The JSON a receiver gets: the same bytes on every retry (the timestamp header and signature are fresh). */
export function webhookBody(row: OutboxRow): string {
  return JSON.stringify({ id: row.eventId, type: row.kind, createdAt: row.createdAt.toISOString(), siteId: row.siteId, data: row.payload })
}

/** Posts a webhook row to its URL, signed; any 2xx is delivered, anything else is retried. */
export function webhookDeliverer(db: Executor, timeoutMs: number, now: () => Date): Deliver {
  return async (row, batch) => {
    const { webhookId } = row
    if (!webhookId) throw new DeliveryError('webhook row without a webhook', true)
    const hook = await batch.once(`webhook:${webhookId}`, () => getWebhook(db, webhookId))
    if (!hook.active) throw new DeliveryError('the webhook is disabled', true)
    const body = webhookBody(row)
    const timestamp = Math.floor(now().getTime() / 1000)
    let res: Response
    try {
      res = await fetch(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'livechat-webhooks/1',
          [EVENT_ID_HEADER]: row.eventId,
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signWebhook(hook.secret, timestamp, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      })
    } catch (err) {
      throw new DeliveryError((err as { name?: string }).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'connection failed')
    }
    await res.body?.cancel()
    if (res.status < 200 || res.status >= 300) throw new DeliveryError(`receiver answered ${res.status}`)
  }
}
