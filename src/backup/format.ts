import { once } from 'node:events'
import type { Writable } from 'node:stream'
import type { SchemaVersion } from '../db/migrate.js'
import type { SequenceState, TableName } from './catalog.js'
import { BackupError } from './errors.js'

/**
 * The backup's plain content (gzip-compressed in the file, then encrypted when BACKUP_KEY
 * is set): lines of JSON around each table's rows in PostgreSQL's COPY text format, which
 * every Postgres version reads and writes alike. docs/backup-format.md describes it.
 */
export const FORMAT = 'livechat-backup'
export const FORMAT_VERSION = 1

export type Header = {
  format: typeof FORMAT
  formatVersion: number
  createdAt: string
  /** the last drizzle migration applied to the database the backup was taken from */
  schema: SchemaVersion
  /** `server_version` of the source, for the record */
  postgres: string
  tables: TableName[]
}
export type TableStart = { table: TableName; columns: string[] }
export type TableEnd = { rows: number }
export type Sequences = { sequences: SequenceState[] }
export type Trailer = { end: true; tables: number; rows: number }

/** The COPY text format's end-of-data line; a backslash in data is always doubled, so no row can look like it. */
export const END_OF_ROWS = Buffer.from('\\.\n')
const NEWLINE = 0x0a
const BACKSLASH = 0x5c
const DOT = 0x2e

export const line = (value: object) => Buffer.from(`${JSON.stringify(value)}\n`)

/**
 * Writes with back-pressure: waits while `out` has more buffered than it wants. A stream
 * that failed (a full disk) is never drained, and its error was already emitted: that
 * error is thrown instead of waiting for ever.
 */
export async function put(out: Writable, chunk: Buffer): Promise<void> {
  if (out.write(chunk)) return
  if (out.destroyed) throw out.errored ?? new BackupError('the output was closed before the backup was complete')
  await once(out, 'drain')
}

/** Counts rows (lines) in a chunk of COPY text. */
export function countLines(chunk: Buffer): number {
  let n = 0
  for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, i + 1)) n++
  return n
}

/**
 * Reads the plain content back, one JSON line at a time, and the rows between them as raw
 * bytes handed on in the chunks they arrived in: memory stays at about one chunk.
 */
export class ContentReader {
  private buf: Buffer = Buffer.alloc(0)
  private pos = 0
  private done = false
  private readonly chunks: AsyncIterator<Buffer>

  constructor(source: AsyncIterable<Buffer>) {
    this.chunks = source[Symbol.asyncIterator]()
  }

  /** Pulls one more chunk; false at the end of the content. */
  private async fill(): Promise<boolean> {
    if (this.done) return false
    const next = await this.chunks.next()
    if (next.done) {
      this.done = true
      return false
    }
    this.buf = this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), next.value]) : next.value
    this.pos = 0
    return true
  }

  /** The next line parsed as JSON. */
  async json<T>(what: string): Promise<T> {
    for (;;) {
      const end = this.buf.indexOf(NEWLINE, this.pos)
      if (end !== -1) {
        const text = this.buf.toString('utf8', this.pos, end)
        this.pos = end + 1
        try {
          return JSON.parse(text) as T
        } catch {
          throw new BackupError(`the backup is damaged: expected ${what}`)
        }
      }
      if (!(await this.fill())) throw new BackupError(`the backup is truncated: it ends before ${what}`)
    }
  }

  /** Hands the rows up to the end-of-data line to `out`; returns how many there were. */
  async rowsTo(out: Writable): Promise<number> {
    let rows = 0
    for (;;) {
      const start = this.pos
      for (let end = this.buf.indexOf(NEWLINE, start); end !== -1; end = this.buf.indexOf(NEWLINE, this.pos)) {
        if (end - this.pos === 2 && this.buf[this.pos] === BACKSLASH && this.buf[this.pos + 1] === DOT) {
          if (this.pos > start) await put(out, this.buf.subarray(start, this.pos))
          this.pos = end + 1
          return rows
        }
        rows++
        this.pos = end + 1
      }
      if (this.pos > start) await put(out, this.buf.subarray(start, this.pos))
      if (!(await this.fill())) throw new BackupError('the backup is truncated: it ends inside a table')
    }
  }

  /** Whether nothing but the end of the content is left. */
  async atEnd(): Promise<boolean> {
    while (this.pos >= this.buf.length) if (!(await this.fill())) return true
    return false
  }
}
