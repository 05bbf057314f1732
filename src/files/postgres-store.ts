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

    async write({ id, siteId }, bytes) {
      let n = 0
      let pending: Buffer = Buffer.alloc(0)
      const insert = (data: Buffer) => db.insert(chatAttachmentChunks).values({ attachmentId: id, siteId, n: n++, data })
      for await (const chunk of bytes) {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
        // rows of exactly CHUNK_BYTES, however the bytes arrived
        while (pending.length >= CHUNK_BYTES) {
          await insert(pending.subarray(0, CHUNK_BYTES))
          pending = pending.subarray(CHUNK_BYTES)
        }
      }
      if (pending.length > 0 || n === 0) await insert(pending)
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
