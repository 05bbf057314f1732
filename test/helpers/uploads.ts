import type { FastifyInstance, InjectOptions } from 'fastify'
import { bearer, sessionHeaders, type Staff, type TestSession } from './fixtures.js'
import { multipartBody } from './multipart.js'

export type WireAttachment = { id: string; name: string; contentType: string; size: number; url?: string }

export function visitorUploadRequest(s: TestSession, bytes: Buffer, name = 'file.bin', headers: Record<string, string> = sessionHeaders(s)): InjectOptions {
  const body = multipartBody(bytes, name)
  return { method: 'POST', url: `/api/public/chat/sessions/${s.id}/attachments`, headers: { ...headers, ...body.headers }, payload: body.payload }
}

export function staffUploadRequest(staff: Staff, sessionId: string, bytes: Buffer, name = 'file.bin'): InjectOptions {
  const body = multipartBody(bytes, name)
  return { method: 'POST', url: `/api/chat/sessions/${sessionId}/attachments`, headers: { ...bearer(staff), ...body.headers }, payload: body.payload }
}

async function uploaded(app: FastifyInstance, request: InjectOptions): Promise<WireAttachment> {
  const res = await app.inject(request)
  if (res.statusCode !== 201) throw new Error(`upload failed: ${res.statusCode} ${res.body}`)
  return res.json().data.attachment
}

export const visitorUpload = (app: FastifyInstance, s: TestSession, bytes: Buffer, name?: string) => uploaded(app, visitorUploadRequest(s, bytes, name))
export const staffUpload = (app: FastifyInstance, staff: Staff, sessionId: string, bytes: Buffer, name?: string) => uploaded(app, staffUploadRequest(staff, sessionId, bytes, name))

/** The path and query of an absolute attachment URL, for app.inject. */
export const pathOf = (url: string) => {
  const u = new URL(url)
  return u.pathname + u.search
}
