import { createHmac } from 'node:crypto'
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIP } from 'node:net'
import { and, asc, eq } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { outbox, webhooks } from '../db/schema.js'
import { notFound, validationError } from '../chat/errors.js'
import type { SecretBox } from '../chat/secret-box.js'
import { randomToken } from '../chat/secrets.js'
import type { OutboxRow } from './store.js'
import { isPublicAddress, NonPublicAddress, nonPublicReason, publicOnlyLookup } from './public-address.js'
import { DeliveryError, type Deliver } from './worker.js'
import type { WebhookEvent } from './enqueue.js'

/** A webhook with its signing secret in the clear (it is stored sealed). */
export type Webhook = typeof webhooks.$inferSelect

export const SIGNATURE_HEADER = 'x-webhook-signature'
export const TIMESTAMP_HEADER = 'x-webhook-timestamp'
export const EVENT_ID_HEADER = 'x-webhook-id'

export type WebhookView = Omit<Webhook, 'secret'> & { secretHint: string }

/** Where webhooks may point: public addresses only, unless WEBHOOK_ALLOW_PRIVATE (tests' local receivers). */
export type WebhookPolicy = { allowPrivate: boolean }

/** The signing secret is shown once, at creation; afterwards only its end. */
export function webhookView(w: Webhook): WebhookView {
  const { secret, ...rest } = w
  return { ...rest, secretHint: `…${secret.slice(-4)}` }
}

const opened = (box: SecretBox) => (row: Webhook): Webhook => ({ ...row, secret: box.open(row.secret, 'webhook-secret') })

/** Refuses (400) a URL no parser takes (the deliverer could never call it) or whose host is, or resolves to, a non-public address. */
export async function assertWebhookUrl(url: string, policy: WebhookPolicy): Promise<void> {
  // the route's pattern lets through what WHATWG URL refuses: an IPv6 zone id, a port above 65535
  const parsed = URL.parse(url)
  if (!parsed) throw validationError('url is not a valid URL', [{ field: 'url', message: 'not a valid http(s) URL' }])
  if (policy.allowPrivate) return
  const reason = await nonPublicReason(parsed.hostname)
  if (reason !== undefined) {
    throw validationError(`url must point at a public address: ${reason}`, [{ field: 'url', message: 'loopback, private, link-local and metadata addresses are refused' }])
  }
}

export async function createWebhook(db: Executor, box: SecretBox, policy: WebhookPolicy, siteId: string, url: string, events: WebhookEvent[]): Promise<Webhook> {
  await assertWebhookUrl(url, policy)
  const secret = randomToken('whsec_', 32)
  const [w] = await db.insert(webhooks).values({ siteId, url, events, secret: box.seal(secret, 'webhook-secret') }).returning()
  if (!w) throw new Error('webhook insert returned nothing')
  return { ...w, secret }
}

export async function listWebhooks(db: Executor, box: SecretBox, siteId: string): Promise<Webhook[]> {
  const rows = await db.select().from(webhooks).where(eq(webhooks.siteId, siteId)).orderBy(asc(webhooks.createdAt))
  return rows.map(opened(box))
}

export async function getWebhook(db: Executor, box: SecretBox, id: string): Promise<Webhook> {
  const [w] = await db.select().from(webhooks).where(eq(webhooks.id, id))
  if (!w) throw notFound('Webhook')
  return opened(box)(w)
}

/**
 * Deleting a webhook also drops its queued and logged deliveries, in the same transaction
 * (the outbox has no foreign key to webhooks: schema-delivery.ts says why).
 */
export async function deleteWebhook(db: Executor, box: SecretBox, siteId: string, id: string): Promise<Webhook> {
  return db.transaction(async (tx) => {
    const [w] = await tx.delete(webhooks).where(and(eq(webhooks.id, id), eq(webhooks.siteId, siteId))).returning()
    if (!w) throw notFound('Webhook')
    await tx.delete(outbox).where(and(eq(outbox.webhookId, w.id), eq(outbox.siteId, siteId)))
    return opened(box)(w)
  })
}

/** `v1=` + hex HMAC-SHA256 of `${timestamp}.${body}` under the webhook's secret. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return 'v1=' + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')
}

/** The JSON a receiver gets: the same bytes on every retry (the timestamp header and signature are fresh). */
export function webhookBody(row: OutboxRow): string {
  return JSON.stringify({ id: row.eventId, type: row.kind, createdAt: row.createdAt.toISOString(), siteId: row.siteId, data: row.payload })
}

/** POSTs `body` and resolves with the status; the answer's body is not read. Redirects are not followed. */
function post(url: URL, headers: Record<string, string>, body: string, timeoutMs: number, lookup: RequestOptions['lookup']): Promise<number> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    const req = send(url, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) }, lookup, signal: AbortSignal.timeout(timeoutMs) }, (res: IncomingMessage) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', reject)
    req.end(body)
  })
}

/**
 * Posts a webhook row to its URL, signed; any 2xx is delivered, anything else is retried.
 * The address is checked at every delivery (a name can be pointed elsewhere after the
 * webhook was created) and the connection pinned to the address that was checked.
 */
export function webhookDeliverer(db: Executor, box: SecretBox, policy: WebhookPolicy, timeoutMs: number, now: () => Date): Deliver {
  return async (row, batch) => {
    const { webhookId } = row
    if (!webhookId) throw new DeliveryError('webhook row without a webhook', true)
    const hook = await batch.once(`webhook:${webhookId}`, () => getWebhook(db, box, webhookId))
    if (!hook.active) throw new DeliveryError('the webhook is disabled', true)
    const url = new URL(hook.url)
    // a name is checked by the lookup as it connects; an address in the URL is never looked up
    const literal = url.hostname.replace(/^\[|\]$/g, '')
    if (!policy.allowPrivate && isIP(literal) && !isPublicAddress(literal)) throw new DeliveryError(`refused: ${literal} is not a public address`, true)
    const body = webhookBody(row)
    const timestamp = Math.floor(now().getTime() / 1000)
    let status: number
    try {
      status = await post(url, {
        'content-type': 'application/json',
        'user-agent': 'livechat-webhooks/1',
        [EVENT_ID_HEADER]: row.eventId,
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: signWebhook(hook.secret, timestamp, body),
      }, body, timeoutMs, policy.allowPrivate ? undefined : publicOnlyLookup)
    } catch (err) {
      if (err instanceof NonPublicAddress) throw new DeliveryError(`refused: ${err.message}`, true)
      throw new DeliveryError((err as { name?: string }).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'connection failed')
    }
    if (status < 200 || status >= 300) throw new DeliveryError(`receiver answered ${status}`)
  }
}
