import type { Message } from '../chat/messages.js'
import { linkMessage, type FileLinks } from '../files/links.js'
import { originFrame, type OriginFrame } from './frames.js'
import type { Peers } from './peers.js'
import type { Watcher } from './rooms.js'

export function messageFrame(links: FileLinks, type: 'message' | 'message.created', message: Message): OriginFrame {
  return originFrame((origin) => JSON.stringify({ type, message: linkMessage(links, origin, message) }), message.attachments.length > 0)
}

/** Sends each watcher the messages right after its lastSeq; false when a send was refused. */
export function deliverMessages(peers: Peers, links: FileLinks, watchers: Iterable<Watcher>, messages: Message[]): boolean {
  // serialised once (per origin when it carries files), shared by every socket
  const batch = messages.map((message) => ({ seq: message.seq, frame: messageFrame(links, 'message', message) }))
  let delivered = true
  for (const w of watchers) {
    for (const { seq, frame } of batch) {
      if (seq <= w.lastSeq) continue
      // a gap means this read started before the socket's backlog: that read fills it
      if (seq !== w.lastSeq + 1) break
      if (!peers.send(w, frame(w.origin))) {
        delivered = false
        break
      }
      w.lastSeq = seq
    }
  }
  return delivered
}
