import type { ChatStorage } from './types.js'

/** The widget's localStorage keys, so the widget and a custom UI on one site share a visitor. */
export const KEYS = { sessionId: 'chatSessionId', userSessionId: 'chatUserSessionId', token: 'chatSessionToken' } as const

function memoryStorage(): ChatStorage {
  const map = new Map<string, string>()
  return { getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) }
}

/** localStorage can throw (blocked cookies, sandboxed frames): then the visitor lasts one page view. */
function localStorageOrMemory(): ChatStorage {
  const memory = memoryStorage()
  const local = (): Storage | undefined => {
    try {
      return globalThis.localStorage
    } catch {
      return undefined
    }
  }
  const attempt = <T>(fn: (s: ChatStorage) => T): T => {
    try {
      const s = local()
      if (s) return fn(s)
    } catch {
      // fall through to memory
    }
    return fn(memory)
  }
  return { getItem: (k) => attempt((s) => s.getItem(k)), setItem: (k, v) => attempt((s) => s.setItem(k, v)), removeItem: (k) => attempt((s) => s.removeItem(k)) }
}

export function storageFor(choice: 'local' | 'memory' | ChatStorage | undefined): ChatStorage {
  if (typeof choice === 'object') return choice
  return choice === 'memory' ? memoryStorage() : localStorageOrMemory()
}

export const randomId = (prefix: string) =>
  prefix + Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('')
