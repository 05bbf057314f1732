import type { Readable } from 'node:stream'

/**
 * Where attachment bytes live: Postgres (postgres-store.ts, the default: several instances
 * need nothing else) or an S3-compatible bucket (s3-store.ts, when S3_BUCKET is set). Files
 * are known by their attachment id. Each row of chat_attachments says which store holds it,
 * so files written before a change of store stay readable.
 */
export interface FileStore {
  readonly kind: 'postgres' | 's3'
  /**
   * Writes the bytes as they arrive, never holding the whole file. When `bytes` throws, the
   * write fails with that error and whatever was written is cleaned up by deleting the
   * attachment row (its chunks cascade; an S3 object is queued for deletion).
   */
  write(file: { id: string; siteId: string }, bytes: AsyncIterable<Buffer>, contentType: string): Promise<void>
  /**
   * The bytes, read as the consumer pulls them. Rejects with FileMissing when the store has
   * no such file, before any byte is sent.
   */
  open(id: string): Promise<Readable>
  /** Removes the files; a missing one is not an error. */
  delete(ids: string[]): Promise<void>
}

/** What the app holds: the store new files go to, and every store a file may be in. */
export type FileStores = { current: FileStore; byKind: Partial<Record<FileStore['kind'], FileStore>> }

/** The store has no file under this id (erased, or lost outside the app). */
export class FileMissing extends Error {
  constructor(id: string) {
    super(`file ${id} is not in the store`)
  }
}
