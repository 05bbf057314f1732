import type { IncomingMessage } from 'node:http'

/** Request bodies both ways: a multipart/form-data body to send (app.inject), and what a stand-in server received (JSON or multipart). */

/** A multipart/form-data body with one file part (for app.inject). */
export function multipartBody(bytes: Buffer, filename = 'file.bin', field = 'file', contentType = 'application/octet-stream'): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----livechat${Math.random().toString(16).slice(2)}`
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: ${contentType}\r\n\r\n`)
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  return { payload: Buffer.concat([head, bytes, tail]), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

export type Part = { name: string; filename?: string; contentType?: string; body: Buffer }

/** The parts of a multipart/form-data body (small test bodies, read whole). */
export function multipartParts(body: Buffer, boundary: string): Part[] {
  const parts: Part[] = []
  const delimiter = Buffer.from(`--${boundary}`)
  let at = body.indexOf(delimiter)
  while (at !== -1) {
    const start = at + delimiter.length
    if (body.subarray(start, start + 2).toString() === '--') break
    const next = body.indexOf(delimiter, start)
    if (next === -1) break
    const raw = body.subarray(start + 2, next - 2)
    const split = raw.indexOf('\r\n\r\n')
    const head = raw.subarray(0, split).toString()
    parts.push({
      name: /name="([^"]*)"/.exec(head)?.[1] ?? '',
      filename: /filename="([^"]*)"/.exec(head)?.[1],
      contentType: /content-type: *([^\r\n]+)/i.exec(head)?.[1],
      body: raw.subarray(split + 4),
    })
    at = next
  }
  return parts
}

export type ReceivedBody = { params: Record<string, unknown>; file?: Part }

/** A stand-in's request body: JSON params, or a multipart form's fields and its one file. */
export const readBody = (req: IncomingMessage) => new Promise<ReceivedBody>((resolve) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const body = Buffer.concat(chunks)
    const boundary = /multipart\/form-data; *boundary=(\S+)/.exec(req.headers['content-type'] ?? '')?.[1]
    if (boundary) {
      const parts = multipartParts(body, boundary)
      const params: Record<string, unknown> = {}
      for (const p of parts) if (p.filename === undefined) params[p.name] = p.body.toString()
      return resolve({ params, file: parts.find((p) => p.filename !== undefined) })
    }
    try {
      resolve({ params: body.length ? (JSON.parse(body.toString()) as Record<string, unknown>) : {} })
    } catch {
      resolve({ params: {} })
    }
  })
})
