import { Readable } from 'node:stream'
import { and, eq, inArray } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { chatAttachmentChunks } from '../db/schema.js'
import { FileMissing, type FileStore } from './store.js'

/** Rows of this size keep a 10 MiB file to 40 statements while no chunk weighs on memory. */
export const CHUNK_BYTES = 256 * 1024

/**
 * Files in Postgres, as chunks of chat_attachment_chunks beside their attachment row, so
 * they go wherever the database goes (backups, replicas) and every instance reads them.
 * Each chunk is its own statement: an upload or download never holds a pool connection
 * while it waits for a slow client.
 */
export function postgresFileStore(db: Executor): FileStore {
  return {
    kind: 'postgres',

    async write(id, bytes) {
      let n = 0
      let pending: Buffer[] = []
      let pendingBytes = 0
      const flush = async () => {
        await db.insert(chatAttachmentChunks).values({ attachmentId: id, n: n++, data: Buffer.concat(pending, pendingBytes) })
        pending = []
        pendingBytes = 0
      }
      for await (const chunk of bytes) {
        pending.push(chunk)
        pendingBytes += chunk.length
        if (pendingBytes >= CHUNK_BYTES) await flush()
      }
      if (pendingBytes > 0 || n === 0) await flush()
    },

    async open(id) {
      const chunk = async (n: number) => (await db.select({ data: chatAttachmentChunks.data }).from(chatAttachmentChunks)
        .where(and(eq(chatAttachmentChunks.attachmentId, id), eq(chatAttachmentChunks.n, n))))[0]?.data
      const first = await chunk(0)
      if (first === undefined) throw new FileMissing(id)
      return Readable.from((async function* chunks() {
        yield first
        for (let n = 1; ; n++) {
          const data = await chunk(n)
          if (data === undefined) return
          yield data
        }
      })())
    },

    async delete(ids) {
      // the attachment rows' deletion cascades to their chunks; this is for a store used on its own
      if (ids.length > 0) await db.delete(chatAttachmentChunks).where(inArray(chatAttachmentChunks.attachmentId, ids))
    },
  }
}
