/** The seed's keys, so a visitor keeps their conversation across reloads and widget versions. */
export const KEYS = {
  sessionId: 'chatSessionId',
  userSessionId: 'chatUserSessionId',
  token: 'chatSessionToken',
  lastReadSeq: 'chatLastReadSeq',
  contactFor: 'chatContactSessionId',
  emailFor: 'chatEmailSessionId',
} as const

type Key = (typeof KEYS)[keyof typeof KEYS]

// storage can throw (blocked cookies, sandboxed frames): the chat then lasts one page view
const memory = new Map<string, string>()

export function load(key: Key): string | null {
  try {
    return localStorage.getItem(key)
  } catch {
    return memory.get(key) ?? null
  }
}

export function save(key: Key, value: string | null): void {
  try {
    if (value === null) localStorage.removeItem(key)
    else localStorage.setItem(key, value)
  } catch {
    if (value === null) memory.delete(key)
    else memory.set(key, value)
  }
}

export const randomId = (prefix: string) =>
  prefix + Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('')
