import { envelope } from './http.js'
import { ChatApiError, type Attachment, type UploadOptions } from './types.js'
import type { UploadData } from './wire.js'

const aborted = () => new DOMException('The upload was cancelled', 'AbortError')

/** Browsers: XMLHttpRequest is the one API that reports upload progress over HTTP/1.1. */
function viaXhr(url: string, headers: Record<string, string>, form: FormData, o: UploadOptions): Promise<Attachment> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', url)
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v)
    xhr.upload.onprogress = (e) => o.onProgress?.({ loaded: e.loaded, total: e.total })
    xhr.onload = () => {
      const res = new Response(xhr.responseText, { status: xhr.status, headers: { 'retry-after': xhr.getResponseHeader('retry-after') ?? '' } })
      envelope<UploadData>(res).then((d) => resolve(d.attachment), reject)
    }
    xhr.onerror = () => reject(new ChatApiError(0, 'NETWORK', 'upload failed'))
    xhr.onabort = () => reject(aborted())
    o.signal?.addEventListener('abort', () => xhr.abort())
    xhr.send(form)
  })
}

/** Elsewhere (Node): the multipart body streamed through a counter. */
async function viaFetch(url: string, headers: Record<string, string>, form: FormData, o: UploadOptions): Promise<Attachment> {
  const encoded = new Request(url, { method: 'POST', body: form })
  const blob = await encoded.blob()
  const total = blob.size
  let loaded = 0
  const counted = blob.stream().pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, out) {
      loaded += chunk.byteLength
      o.onProgress?.({ loaded, total })
      out.enqueue(chunk)
    },
  }))
  let res: Response
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': encoded.headers.get('content-type') ?? '' },
      body: counted,
      signal: o.signal,
      duplex: 'half',
    } as RequestInit & { duplex: 'half' })
  } catch (err) {
    if (o.signal?.aborted) throw aborted()
    throw new ChatApiError(0, 'NETWORK', err instanceof Error ? err.message : 'upload failed')
  }
  return (await envelope<UploadData>(res)).attachment
}

export function uploadFile(url: string, headers: Record<string, string>, file: Blob, name: string, o: UploadOptions): Promise<Attachment> {
  if (o.signal?.aborted) return Promise.reject(aborted())
  const form = new FormData()
  form.append('file', file, name)
  // as a property of globalThis (undefined in Node), so that a browser-only bundle can define it away
  return globalThis.XMLHttpRequest ? viaXhr(url, headers, form, o) : viaFetch(url, headers, form, o)
}
