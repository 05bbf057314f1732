import { ChatApiError } from './types.js'

const REQUEST_TIMEOUT_MS = 20_000

export type Request = { method?: string; path: string; body?: unknown; auth?: boolean }

/** Back-off with jitter: about 0.5 s, 1 s, 2 s, ... up to 30 s. */
export const backoffMs = (attempt: number) => Math.min(30_000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2)

/** Worth retrying as it is: the server was not reached, was overloaded, or failed. */
export const retryable = (err: unknown) => err instanceof ChatApiError && (err.status === 0 || err.status === 408 || err.status === 429 || err.status >= 500)

/** The wait before retrying `err`: the server's Retry-After when it gave one. */
export const retryDelayMs = (err: unknown, attempt: number) => Math.max(err instanceof ChatApiError ? err.retryAfterMs ?? 0 : 0, backoffMs(attempt))

/**
 * Waits `ms` before a retry, or less: a browser that is back online retries at once (a message
 * typed offline goes when the network is back). Node has no global addEventListener: there the
 * optional calls do nothing.
 */
export const retryWait = (ms: number) => new Promise<void>((resolve) => {
  const done = () => {
    clearTimeout(timer)
    globalThis.removeEventListener?.('online', done)
    resolve()
  }
  const timer = setTimeout(done, ms)
  globalThis.addEventListener?.('online', done)
})

/** Reads the `{ success, data }` envelope; anything else becomes a ChatApiError. */
export async function envelope<T>(res: Response): Promise<T> {
  const body = (await res.json().catch(() => undefined)) as { success?: boolean; data?: T; error?: { code?: string; message?: string } } | undefined
  if (res.ok && body?.success) return body.data as T
  const retryAfter = Number(res.headers.get('retry-after'))
  throw new ChatApiError(res.status, body?.error?.code ?? `HTTP_${res.status}`, body?.error?.message ?? res.statusText, retryAfter > 0 ? retryAfter * 1000 : undefined)
}

/** One JSON request with a timeout; a network failure or timeout is a ChatApiError with status 0. */
export async function requestJson<T>(url: string, headers: Record<string, string>, method: string, body?: unknown): Promise<T> {
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS)
  let res: Response
  try {
    res = await fetch(url, {
      method,
      headers: body === undefined ? headers : { ...headers, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: abort.signal,
    })
    return await envelope<T>(res)
  } catch (err) {
    if (err instanceof ChatApiError) throw err
    throw new ChatApiError(0, 'NETWORK', err instanceof Error ? err.message : 'network error')
  } finally {
    clearTimeout(timer)
  }
}
