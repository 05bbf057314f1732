import { createHmac } from 'node:crypto'
import { sameHash } from '../chat/secrets.js'
import type { AttachedFile } from '../db/schema.js'

/** The path downloads are served under: `/api/files/<id>/<name>?expires=…&sig=…`. */
export const FILES_PATH = '/api/files'

// URLs keep the same expiry for a tenth of their lifetime, so a client that re-renders a
// message (a poll, a socket frame) gets the same URL and its browser cache still holds the file
const EXPIRY_STEPS = 10

export type FileLinks = {
  /** An absolute URL opening the file without headers, signed, expiring within the TTL. */
  url: (origin: string, file: Pick<AttachedFile, 'id' | 'name'>) => string
  /** Whether a URL's id, expiry and signature were made by this server (any instance) and still hold. */
  check: (id: string, expires: number, sig: string) => 'ok' | 'expired' | 'forged'
}

/**
 * Signed download links. The signature covers the file id and the expiry, not the host or
 * the name: every instance (sharing the secret kept in the database) accepts a URL made by
 * any other, whatever address a client reached it through.
 */
export function fileLinks(secret: string, ttlSeconds: number, now: () => number = Date.now): FileLinks {
  const sign = (id: string, expires: number) => createHmac('sha256', secret).update(`${id}:${expires}`).digest('base64url')
  const step = Math.max(1, Math.floor(ttlSeconds / EXPIRY_STEPS))
  return {
    url(origin, file) {
      const expires = Math.floor((now() / 1000 + ttlSeconds) / step) * step
      return `${origin}${FILES_PATH}/${file.id}/${encodeURIComponent(file.name)}?expires=${expires}&sig=${sign(file.id, expires)}`
    },
    check(id, expires, sig) {
      if (!sameHash(sign(id, expires), sig)) return 'forged'
      return expires * 1000 < now() ? 'expired' : 'ok'
    },
  }
}

/** A file as clients get it: with a signed URL. */
export type LinkedFile = AttachedFile & { url: string }
type WithFiles = { attachments: AttachedFile[] }
export type Linked<M extends WithFiles> = Omit<M, 'attachments'> & { attachments: LinkedFile[] }
type WithLastMessage = { lastMessage: WithFiles | null }
export type LinkedSession<S extends WithLastMessage> = Omit<S, 'lastMessage'> & { lastMessage: Linked<NonNullable<S['lastMessage']>> | null }

/** The message with a URL on each attachment (a new object), or the same object when it has none. */
export function linkMessage<M extends WithFiles>(links: FileLinks, origin: string, message: M): Linked<M> {
  // no file: nothing to sign, and an empty list already has the linked type
  if (message.attachments.length === 0) return message as unknown as Linked<M>
  return { ...message, attachments: message.attachments.map((a) => ({ ...a, url: links.url(origin, a) })) }
}

/** The session with URLs on its last message's attachments. */
export function linkSession<S extends WithLastMessage>(links: FileLinks, origin: string, session: S): LinkedSession<S> {
  const last = session.lastMessage
  if (!last?.attachments.length) return session as LinkedSession<S>
  return { ...session, lastMessage: linkMessage(links, origin, last) as Linked<NonNullable<S['lastMessage']>> }
}

/** What a route hands clients, with the attachment URLs for the origin the request came to. */
export type Linker = {
  message: <M extends WithFiles>(message: M) => Linked<M>
  messages: <M extends WithFiles>(messages: M[]) => Linked<M>[]
  session: <S extends WithLastMessage>(session: S) => LinkedSession<S>
  sessions: <S extends WithLastMessage>(sessions: S[]) => LinkedSession<S>[]
}

/**
 * A class, not an object of arrow functions: every send and poll makes one, and under tsx
 * (how the server runs) each named closure costs a defineProperty of its name per request
 * (esbuild keepNames), about 5% of a poll's CPU in a profile.
 */
class OriginLinker implements Linker {
  constructor(private readonly links: FileLinks, private readonly origin: string) {}
  message<M extends WithFiles>(m: M): Linked<M> {
    return linkMessage(this.links, this.origin, m)
  }
  messages<M extends WithFiles>(ms: M[]): Linked<M>[] {
    return ms.map((m) => linkMessage(this.links, this.origin, m))
  }
  session<S extends WithLastMessage>(s: S): LinkedSession<S> {
    return linkSession(this.links, this.origin, s)
  }
  sessions<S extends WithLastMessage>(ss: S[]): LinkedSession<S>[] {
    return ss.map((s) => linkSession(this.links, this.origin, s))
  }
}

export function linker(links: FileLinks, origin: string): Linker {
  return new OriginLinker(links, origin)
}
