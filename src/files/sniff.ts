/**
 * What a file is, from its bytes alone (never its name or the client's Content-Type), and
 * whether we accept it. Accepted: PNG, JPEG, GIF, WebP, PDF, DOCX, XLSX and UTF-8 plain text.
 * Everything else is refused: HTML, SVG and other markup (they run script when opened from
 * our origin), executables, archives, and whatever file-type cannot name.
 */

export const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'
export const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
export const TEXT = 'text/plain'

const BINARY_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', DOCX, XLSX])
/** Shown inline (the browser renders them as images, which cannot run script); the rest download. */
export const INLINE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp'])

/**
 * The extensions a file of each accepted type may be saved under. A name is only shown, but the
 * name a download is saved under decides what the visitor's or agent's computer does with it:
 * checked plain text saved as `.bat`, `.hta` or `.html` runs on a double click, and a PDF saved
 * as `.html` is parsed as HTML.
 */
const EXTENSIONS: Record<string, readonly string[]> = {
  'image/png': ['png'],
  'image/jpeg': ['jpg', 'jpeg', 'jfif'],
  'image/gif': ['gif'],
  'image/webp': ['webp'],
  'application/pdf': ['pdf'],
  [DOCX]: ['docx'],
  [XLSX]: ['xlsx'],
  [TEXT]: ['txt', 'log'],
}

/** The name to save a file under: its own when it ends in an extension of its type, else with the type's extension added. */
export function savedName(name: string, contentType: string): string {
  const allowed = EXTENSIONS[contentType]
  if (!allowed) return name
  const ext = /\.([^.]+)$/.exec(name)?.[1]?.toLowerCase()
  return ext && allowed.includes(ext) ? name : `${name}.${allowed[0]}`
}

/** How much of the start of a file decides its type: office documents name their parts in the first zip entries. */
export const HEAD_BYTES = 64 * 1024

// C0 controls other than tab, line feed, form feed and carriage return, and DEL: binary, not text
// eslint-disable-next-line no-control-regex -- control characters are exactly what is looked for
const CONTROL = /[\x00-\x08\x0b\x0e-\x1f\x7f]/
// markup a browser would render (or an SVG viewer run) if it ever got the chance
const MARKUP = /^\s*</
const MARKUP_ANYWHERE = /<(?:!doctype\s|html[\s>]|svg[\s>]|script[\s>]|iframe[\s>]|\?xml\s)/i

/**
 * Checks text as it streams: valid UTF-8 throughout (a sequence split between chunks is
 * fine), no control characters, and no markup at its start or in its first chunk.
 */
export class TextCheck {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })
  private first = true

  /** False when the bytes so far cannot be plain text. */
  push(chunk: Uint8Array): boolean {
    let text: string
    try {
      text = this.decoder.decode(chunk, { stream: true })
    } catch {
      return false
    }
    if (CONTROL.test(text)) return false
    if (this.first && (MARKUP.test(text) || MARKUP_ANYWHERE.test(text))) return false
    this.first = false
    return true
  }

  /** False when the text ended inside a UTF-8 sequence. */
  end(): boolean {
    try {
      this.decoder.decode()
      return true
    } catch {
      return false
    }
  }
}

/**
 * The accepted content type of a file starting with `head` (at most HEAD_BYTES; `whole`: the
 * head is the whole file), or undefined when it is refused.
 */
export async function acceptedType(head: Uint8Array, whole = true): Promise<string | undefined> {
  // file-type and its parsers (some 30 modules) load on the first upload, not with the app
  const { fileTypeFromBuffer } = await import('file-type')
  const detected = await fileTypeFromBuffer(head)
  if (detected) return BINARY_TYPES.has(detected.mime) ? detected.mime : undefined
  const check = new TextCheck()
  // a multi-byte sequence cut off at the end of a partial head is not an error: the whole file is checked as it streams
  return check.push(head) && (!whole || check.end()) ? TEXT : undefined
}
