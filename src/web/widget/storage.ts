/** The widget's own keys beside the SDK's (chatSessionId, chatUserSessionId, chatSessionToken). */
export const KEYS = {
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

export function save(key: Key, value: string): void {
  try {
    localStorage.setItem(key, value)
  } catch {
    memory.set(key, value)
  }
}
