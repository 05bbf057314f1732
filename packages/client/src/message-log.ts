import type { Message } from './types.js'

/**
 * One session's messages in seq order, each once: what arrives ahead of a gap waits until the
 * gap is filled, and send() calls can wait for their own message's turn.
 */
export function messageLog(onMessage: (m: Message) => void) {
  const messages: Message[] = []
  /** messages received ahead of a gap, by seq */
  const ahead = new Map<number, Message>()
  /** send() calls waiting for their message to be delivered, by seq */
  const waiting = new Map<number, (() => void)[]>()
  const lastSeq = () => messages[messages.length - 1]?.seq ?? 0
  return {
    messages,
    lastSeq,
    /** Delivers what is next in seq order of `sessionId`'s messages; true while a gap holds some back. */
    take(list: readonly Message[], sessionId: string | undefined): boolean {
      for (const m of list) if (m.sessionId === sessionId && m.seq > lastSeq()) ahead.set(m.seq, m)
      for (let next = ahead.get(lastSeq() + 1); next; next = ahead.get(lastSeq() + 1)) {
        ahead.delete(next.seq)
        messages.push(next)
        onMessage(next)
        for (const done of waiting.get(next.seq) ?? []) done()
        waiting.delete(next.seq)
      }
      return ahead.size > 0
    },
    /** Resolves once `seq` is delivered (or the waits are released). */
    delivered: (seq: number) => new Promise<void>((done) => waiting.set(seq, [...(waiting.get(seq) ?? []), done])),
    /** Lets every waiting send() go. */
    release(): void {
      for (const list of waiting.values()) for (const done of list) done()
      waiting.clear()
    },
    clear(): void {
      messages.length = 0
      ahead.clear()
    },
  }
}
