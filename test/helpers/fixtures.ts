import { randomBytes } from 'node:crypto'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { createSite } from '../../src/chat/sites.js'
import { hashPassword } from '../../src/chat/secrets.js'
import { createUser, type Role } from '../../src/chat/users.js'

export type TestSite = { id: string; apiKey: string; apiSecret: string }
export type TestSession = { site: TestSite; id: string; token: string; userSessionId: string }
export type Staff = { id: string; token: string; email: string; password: string }

export const uniq = (prefix = '') => prefix + randomBytes(6).toString('hex')

export async function makeSite(app: FastifyInstance, origins: string[] = ['https://shop.example']): Promise<TestSite> {
  const { site, apiSecret } = await createSite(app.db, app.secretBox, { name: uniq('site-'), origins })
  return { id: site.id, apiKey: site.apiKey, apiSecret }
}

const STAFF_PASSWORD = 'correct horse battery'
let staffPasswordHash: Promise<string> | undefined
// one scrypt hash of the staff password per test process, stored for every user made here: a
// real hash, which the login route checks at full cost
const hashStaffPassword = () => (staffPasswordHash ??= hashPassword(STAFF_PASSWORD))

/**
 * `siteIds`: the sites the user works on (default: all). The token is what a login would give
 * (app.issueStaffToken), without the login's password check: the login has tests of its own.
 */
export async function makeStaff(app: FastifyInstance, role: Role = 'agent', name = 'Olena', siteIds: string[] | null = null): Promise<Staff> {
  const email = `${uniq(role)}@example.com`
  const user = await createUser(app.db, { email, name, password: STAFF_PASSWORD, role, siteIds }, hashStaffPassword)
  return { id: user.id, token: app.issueStaffToken(user), email, password: STAFF_PASSWORD }
}

const publicHeaders = (site: TestSite, extra: Record<string, string> = {}) => ({ 'x-api-key': site.apiKey, ...extra })

export function startSessionRequest(site: TestSite, body: Record<string, unknown> = {}): InjectOptions {
  return { method: 'POST', url: '/api/public/chat/sessions', headers: publicHeaders(site), payload: body }
}

export async function makeSession(app: FastifyInstance, site: TestSite, body: Record<string, unknown> = {}): Promise<TestSession> {
  const res = await app.inject(startSessionRequest(site, { userSessionId: uniq('visitor-'), ...body }))
  if (res.statusCode !== 201) throw new Error(`session not created: ${res.statusCode} ${res.body}`)
  const data = res.json().data
  return { site, id: data.sessionId, token: data.token, userSessionId: data.userSessionId }
}

export const sessionHeaders = (s: TestSession) => publicHeaders(s.site, { 'x-session-token': s.token })

export function sendRequest(s: TestSession, body: Record<string, unknown>): InjectOptions {
  return { method: 'POST', url: `/api/public/chat/sessions/${s.id}/messages`, headers: sessionHeaders(s), payload: body }
}

export function pollRequest(s: TestSession, query = ''): InjectOptions {
  return { method: 'GET', url: `/api/public/chat/sessions/${s.id}/messages${query ? `?${query}` : ''}`, headers: sessionHeaders(s) }
}

export type WireMessage = { id: string; sessionId: string; seq: number; sender: string; senderName: string | null; text: string; createdAt: string }

export async function poll(app: FastifyInstance, s: TestSession, query = ''): Promise<WireMessage[]> {
  const res = await app.inject(pollRequest(s, query))
  if (res.statusCode !== 200) throw new Error(`poll failed: ${res.statusCode} ${res.body}`)
  return res.json().data.messages
}

export const bearer = (staff: Staff) => ({ authorization: `Bearer ${staff.token}` })

export function replyRequest(staff: Staff, sessionId: string, text: string): InjectOptions {
  return { method: 'POST', url: `/api/chat/sessions/${sessionId}/messages`, headers: bearer(staff), payload: { text } }
}
