import { and, eq, sql } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { chatAttachments, chatSessions, fileDeletions, type AttachedFile } from '../db/schema.js'
import type { FileStores } from '../files/store.js'
import { acceptedType, HEAD_BYTES, TextCheck, TEXT } from '../files/sniff.js'
import { ChatError, notFound, sessionClosed, validationError } from './errors.js'
import { isUuid } from './ids.js'
import type { Session } from './sessions.js'
import { inScope, type SiteScope } from './visibility.js'

/**
 * Files people attach to messages: an upload is checked by its content and streamed into
 * the store, then sent as part of one message of the same session (messages.ts links it in
 * the statement that stores the message).
 */

export type { AttachedFile }
export type Attachment = typeof chatAttachments.$inferSelect
export type Uploader = Attachment['uploader']

export const MAX_ATTACHMENTS_PER_MESSAGE = 5
const MAX_NAME_CHARS = 200
const ACCEPTED_LIST = 'images (PNG, JPEG, GIF, WebP), PDF, plain text (UTF-8), DOCX and XLSX'

export const fileTooLarge = (maxBytes: number) =>
  new ChatError(413, 'PAYLOAD_TOO_LARGE', `The file is larger than the limit of ${maxBytes} bytes`)
export const unsupportedFile = () =>
  new ChatError(415, 'UNSUPPORTED_MEDIA_TYPE', `This kind of file is not accepted; accepted are ${ACCEPTED_LIST}`)

// path separators, control characters and the characters Windows refuses in names
// eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
const UNSAFE_NAME_CHARS = /[\\/\x00-\x1f\x7f<>:"|?*]+/g
// bidirectional controls (U+202E shows "invoice\u202etxt.bat" as "invoicetab.txt") and invisible
// characters that hide what a name says; joiners (U+200C, U+200D) stay, emoji and scripts need them
const HIDING_NAME_CHARS = /[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/g

/** The name a client gave, made safe to show and to put in Content-Disposition; a last resort from the type. */
export function cleanFileName(raw: string | undefined, contentType: string): string {
  const base = (raw ?? '').normalize('NFC').split(/[\\/]/).pop() ?? ''
  // trimEnd, not /\s+$/: a regular expression tries that from every space of a run, and a
  // part header (up to 80 KiB) of spaces before one letter took seconds of the event loop
  let name = base.replace(HIDING_NAME_CHARS, '').replace(UNSAFE_NAME_CHARS, '_').replace(/^[\s.]+/, '').trimEnd()
  const chars = Array.from(name)
  if (chars.length > MAX_NAME_CHARS) {
    // keep the extension, which is what people read a file's kind from
    const ext = /\.[^.]{1,10}$/.exec(name)?.[0] ?? ''
    name = chars.slice(0, MAX_NAME_CHARS - ext.length).join('') + ext
  }
  return name || `file.${contentType === TEXT ? 'txt' : contentType.split(/[/.+-]/).pop() ?? 'bin'}`
}

/**
 * The session an upload goes to: one the caller has read already (and may reach), or its id and
 * the sites the uploader may reach (chat/visibility.ts; a session elsewhere counts as missing; unset: any).
 */
export type UploadSession = { session: Pick<Session, 'id' | 'siteId' | 'status'> } | { sessionId: string; scope?: SiteScope }

export type NewUpload = UploadSession & {
  uploader: Uploader
  /** as the client named it; only shown, never used to decide the type */
  name: string | undefined
  bytes: AsyncIterable<Uint8Array>
  maxBytes: number
}

/** Reads the first HEAD_BYTES (or the whole file, if shorter) and gives back a source that yields everything. */
async function splitHead(bytes: AsyncIterable<Uint8Array>): Promise<{ head: Buffer; whole: boolean; all: AsyncIterable<Buffer> }> {
  const iterator = bytes[Symbol.asyncIterator]()
  const first: Buffer[] = []
  let headBytes = 0
  let done = false
  while (headBytes < HEAD_BYTES) {
    const next = await iterator.next()
    if (next.done) {
      done = true
      break
    }
    const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength)
    first.push(chunk)
    headBytes += chunk.length
  }
  async function* all(): AsyncIterable<Buffer> {
    yield* first
    if (done) return
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      yield Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength)
    }
  }
  return { head: Buffer.concat(first, headBytes).subarray(0, HEAD_BYTES), whole: done, all: all() }
}

/** The bytes, refused midway when they pass the limit or stop being text a text file must be. */
async function* checked(bytes: AsyncIterable<Buffer>, maxBytes: number, text: TextCheck | undefined, counted: { bytes: number }): AsyncIterable<Buffer> {
  for await (const chunk of bytes) {
    counted.bytes += chunk.length
    if (counted.bytes > maxBytes) throw fileTooLarge(maxBytes)
    if (text && !text.push(chunk)) throw unsupportedFile()
    yield chunk
  }
  if (text && !text.end()) throw unsupportedFile()
}

async function sessionInScope(db: Executor, sessionId: string, scope: SiteScope): Promise<Pick<Session, 'id' | 'siteId' | 'status'>> {
  const [s] = isUuid(sessionId)
    ? await db.select({ id: chatSessions.id, status: chatSessions.status, siteId: chatSessions.siteId }).from(chatSessions).where(eq(chatSessions.id, sessionId))
    : []
  if (!s || !inScope(scope, s.siteId)) throw notFound('Session')
  return s
}

/** The session an upload goes to, read unless the caller has: open, and within the scope. */
async function openSessionOf(db: Executor, upload: UploadSession): Promise<Pick<Session, 'id' | 'siteId'>> {
  const s = 'session' in upload ? upload.session : await sessionInScope(db, upload.sessionId, upload.scope ?? null)
  if (s.status !== 'open') throw sessionClosed()
  return s
}

/**
 * Checks a file by its content and streams it into the current store: 413 past `maxBytes`,
 * 415 for anything but the accepted types, 400 for an empty file, 404/409 for a missing or
 * closed session (404 also when it is erased while the file comes in). Nothing of a refused
 * or broken upload is kept.
 */
export async function storeAttachment(db: Executor, stores: FileStores, upload: NewUpload): Promise<AttachedFile> {
  const session = await openSessionOf(db, upload)
  const { head, whole, all } = await splitHead(upload.bytes)
  if (head.length === 0) throw validationError('The file is empty', [{ field: 'file', message: 'empty file' }])
  const contentType = await acceptedType(head, whole)
  if (contentType === undefined) throw unsupportedFile()
  const store = stores.current
  const [row] = await db.insert(chatAttachments).values({
    siteId: session.siteId,
    sessionId: session.id,
    uploader: upload.uploader,
    name: cleanFileName(upload.name, contentType),
    contentType,
    storage: store.kind,
  }).returning()
  if (!row) throw new Error('attachment insert returned nothing')
  const counted = { bytes: 0 }
  let completed: boolean
  try {
    await store.write(row, checked(all, upload.maxBytes, contentType === TEXT ? new TextCheck() : undefined, counted), contentType)
    const updated = await db.update(chatAttachments).set({ size: counted.bytes, complete: true })
      .where(eq(chatAttachments.id, row.id)).returning({ id: chatAttachments.id })
    completed = updated.length > 0
  } catch (err) {
    // its chunks go with it; an S3 object (or a multipart upload's leftovers) is queued for deletion
    await db.delete(chatAttachments).where(eq(chatAttachments.id, row.id)).catch(() => undefined)
    // a chunk refused since the session (and this row with it) was erased meanwhile
    if (!(err instanceof ChatError) && await sessionGone(db, session.id)) throw notFound('Session')
    throw err
  }
  if (!completed) {
    // The session was erased while the file came in: the row's deletion queued its S3 object
    // before the object was written, and the clean-up may have run since, so queue it again.
    if (store.kind !== 'postgres') await db.insert(fileDeletions).values({ storage: store.kind, key: row.id })
    throw notFound('Session')
  }
  return { id: row.id, name: row.name, contentType, size: counted.bytes }
}

async function sessionGone(db: Executor, sessionId: string): Promise<boolean> {
  const [s] = await db.select({ id: chatSessions.id }).from(chatSessions).where(eq(chatSessions.id, sessionId))
  return !s
}

/** Deletes an upload that will not be sent after all (its file goes as every attachment's does). */
export async function discardAttachment(db: Executor, id: string): Promise<void> {
  await db.delete(chatAttachments).where(and(eq(chatAttachments.id, id), sql`${chatAttachments.messageId} is null`))
}

/** A complete attachment by id (for downloads and Telegram), or undefined. */
export async function getAttachment(db: Executor, id: string): Promise<Attachment | undefined> {
  if (!isUuid(id)) return undefined
  const [row] = await db.select().from(chatAttachments).where(and(eq(chatAttachments.id, id), eq(chatAttachments.complete, true)))
  return row
}

/**
 * Deletes uploads that will never be sent: broken ones (incomplete after `incompleteMs`) and
 * ones no message took within `unsentMs`. Their files go as every attachment's do.
 */
export async function sweepUnsentAttachments(db: Executor, opts: { incompleteMs: number; unsentMs: number; limit: number }): Promise<number> {
  const rows = await db.delete(chatAttachments).where(sql`${chatAttachments.id} in (
      select id from chat_attachments
      where message_id is null and (
        created_at < now() - make_interval(secs => ${opts.unsentMs / 1000})
        or (not complete and created_at < now() - make_interval(secs => ${opts.incompleteMs / 1000})))
      limit ${opts.limit})`).returning({ id: chatAttachments.id })
  return rows.length
}
