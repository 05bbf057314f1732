import type { Message as WidgetMessage } from '../widget/types.js'
import { t } from './i18n.js'

// the stats reply holds only numbers and date strings, so the server's type is the wire type
export type { Stats } from '../../chat/stats.js'

export type Attachment = { id: string; name: string; contentType: string; size: number; url: string }
export type Message = WidgetMessage & { attachments?: Attachment[] }
export type Session = {
  id: string
  userSessionId: string
  status: 'open' | 'closed'
  name: string | null
  phone: string | null
  email: string | null
  pageUrl: string | null
  locale: string | null
  siteId: string
  createdAt: string
  lastSeq: number
  /** read marks: what the visitor and the agents have seen */
  visitorReadSeq: number
  agentReadSeq: number
  lastMessage: Message | null
  lastMessageAt: string | null
  unreadCount: number
  assignedTo: { id: string; name: string } | null
  labels: string[]
  closedAt: string | null
  firstResponseAt: string | null
  rating?: Rating | null
}
export type Rating = { score: number; comment: string | null; createdAt: string }
export type Availability = 'online' | 'away'
export type User = {
  id: string
  email: string
  name: string
  role: 'admin' | 'agent'
  disabled?: boolean
  siteIds: string[] | null
  availability: Availability
  online: boolean
}
export type Note = { id: string; sessionId: string; text: string; author: { id: string | null; name: string }; createdAt: string }
export type Canned = { id: string; siteId: string | null; shortcut: string; text: string }
export type Site = { id: string; name: string; apiKey: string; origins: string[]; legacyBrowserSecret: boolean; createdAt: string }

const TOKEN_KEY = 'chatAdminToken'

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message)
  }
}

export const auth = {
  get token(): string | null {
    return localStorage.getItem(TOKEN_KEY)
  },
  set token(v: string | null) {
    if (v) localStorage.setItem(TOKEN_KEY, v)
    else localStorage.removeItem(TOKEN_KEY)
  },
  onExpired: () => {},
}

/** Signs the token out on the server (every instance), so a copy of it left anywhere stops working. */
export async function logout(): Promise<void> {
  const token = auth.token
  if (!token) return
  await fetch('/api/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${token}` } }).catch(() => undefined)
}

/** The admin API: JSON in, the envelope's data out, ApiError otherwise; a 401 logs out. */
export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = {}
  if (auth.token) headers.authorization = `Bearer ${auth.token}`
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(path, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) })
  } catch {
    throw new ApiError(0, 'NETWORK', t('error.network'))
  }
  // 204 No Content (a DELETE): nothing to read
  if (res.status === 204) return undefined as T
  const json = (await res.json().catch(() => ({}))) as { data?: T; error?: { code: string; message: string } }
  if (res.ok && json.data !== undefined) return json.data
  if (res.status === 401 && auth.token && !path.endsWith('/login')) {
    auth.token = null
    auth.onExpired()
  }
  throw new ApiError(res.status, json.error?.code ?? 'INTERNAL', json.error?.message ?? t('error.request', { status: res.status }))
}
