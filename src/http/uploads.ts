import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { BusboyFileStream } from '@fastify/busboy'
import { discardAttachment, fileTooLarge, storeAttachment, type AttachedFile, type Uploader, type UploadSession } from '../chat/attachments.js'
import { ChatError, validationError } from '../chat/errors.js'
import { unknownFieldError } from './errors.js'

/** What a multipart body may add around the file (boundaries, part headers). */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024

export const UPLOAD_DESCRIPTION = [
  'Body: `multipart/form-data` with one part named `file` (its filename is kept as the name; its Content-Type is ignored;',
  'a second file, or any other field, in the body is 400, and nothing is kept).',
  'The type is detected from the content: PNG, JPEG, GIF, WebP, PDF, UTF-8 plain text, DOCX and XLSX are accepted;',
  'anything else is 415 UNSUPPORTED_MEDIA_TYPE (also HTML and SVG, whatever the name says), a file over ATTACHMENT_MAX_BYTES',
  '(default 10 MiB) is 413, an empty file 400. Then send a message with `attachments: [id]`.',
].join(' ')

const oneFileOnly = () => validationError('Send one part named "file"', [{ field: 'file', message: 'one file per upload' }])

/** busboy's and @fastify/multipart's complaints about the body, as the envelope's client errors. */
function multipartError(err: unknown, maxBytes: number): unknown {
  if (err instanceof ChatError) return err
  const code = (err as { code?: string }).code
  if (code === 'FST_REQ_FILE_TOO_LARGE') return fileTooLarge(maxBytes)
  if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') return new ChatError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be multipart/form-data')
  if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') return oneFileOnly()
  return validationError('The multipart body is malformed or was cut off', [{ field: 'file', message: 'malformed multipart body' }])
}

/** The part's bytes; a failure of the multipart stream itself is the client's (400/413), never a 500. */
async function* partBytes(file: BusboyFileStream, maxBytes: number): AsyncIterable<Uint8Array> {
  try {
    for await (const chunk of file) yield chunk as Buffer
  } catch (err) {
    throw multipartError(err, maxBytes)
  }
}

/**
 * Streams the request's `file` part into the attachment store for the session. The rest of a
 * refused upload's body is read and dropped after the answer (http/request-deadline.ts).
 */
export async function receiveUpload(
  app: FastifyInstance,
  req: FastifyRequest,
  target: UploadSession & { uploader: Uploader },
): Promise<AttachedFile> {
  const maxBytes = app.config.attachments.maxBytes
  const declared = Number(req.headers['content-length'])
  if (declared > maxBytes + MULTIPART_OVERHEAD_BYTES) throw fileTooLarge(maxBytes)
  // one byte over the limit lets storeAttachment see (and refuse) a file that is too large;
  // fields are read as parts so that one is refused as an unknown field, not dropped unseen
  const parts = req.parts({ limits: { fileSize: maxBytes + 1, files: 1, fields: 1, parts: 2, fieldSize: 1024 } })
  const next = async () => {
    let part
    try {
      part = (await parts.next()).value
    } catch (err) {
      throw multipartError(err, maxBytes)
    }
    if (part?.type === 'field' && part.fieldname !== 'file') throw unknownFieldError(part.fieldname)
    return part
  }
  const part = await next()
  if (!part || part.type !== 'file') throw validationError('A part named "file" is required', [{ field: 'file', message: 'file is required' }])
  if (part.fieldname !== 'file') throw validationError('The file must be sent in a part named "file"', [{ field: 'file', message: 'file is required' }])
  const stored = await storeAttachment(app.db, app.files.stores, { ...target, name: part.filename, bytes: partBytes(part.file, maxBytes), maxBytes })
  // the rest of the body: a second file (files: 1) or a field is refused rather than dropped unseen, and the first goes too
  const refuse = async (err: unknown) => {
    await discardAttachment(app.db, stored.id)
    throw err
  }
  if (await next().catch(refuse)) await refuse(oneFileOnly())
  return stored
}
