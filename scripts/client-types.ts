/**
 * Writes packages/client/src/wire.ts: the client SDK's wire types, generated from the
 * server's TypeBox schemas (one source of truth). Run by `npm install` (prepare), by
 * `npm run typecheck` before tsc, and by the package's build; the file is not committed,
 * so a schema change that breaks the client fails the type-check of `npm test`.
 *
 *   node --import tsx scripts/client-types.ts           # write the file
 */
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { TSchema } from '@sinclair/typebox'
import { Attachment, ErrorBody, Message, PublicSession, Rating } from '../src/http/schemas.js'
import { MessageFrame, PingFrame } from '../src/realtime/frames.js'
import { UploadReply } from '../src/routes/api/public/chat/attachments.js'
import { AvailabilityReply } from '../src/routes/api/public/chat/availability.js'
import { MessageReply, PollQuery, PollReply, SendBody } from '../src/routes/api/public/chat/messages.js'
import { RatingBody, RatingReply } from '../src/routes/api/public/chat/rating.js'
import { ReadBody } from '../src/routes/api/public/chat/read.js'
import { ResumeBody, ResumeReply } from '../src/routes/api/public/chat/resume.js'
import { StartBody, StartReply } from '../src/routes/api/public/chat/sessions.js'
import { SocketQuery } from '../src/routes/api/public/chat/socket.js'

export const WIRE_FILE = fileURLToPath(new URL('../packages/client/src/wire.ts', import.meta.url))

type Schema = TSchema & {
  type?: string | string[]
  const?: unknown
  enum?: unknown[]
  anyOf?: Schema[]
  properties?: Record<string, Schema>
  required?: string[]
  items?: Schema
  patternProperties?: Record<string, Schema>
  additionalProperties?: boolean | Schema
}

const dataOf = (envelope: TSchema) => (envelope as Schema).properties?.data ?? envelope

/**
 * Named in the output, in this order; a part of a later schema equal to an earlier named one
 * is written as its name. Names say what the type is on the wire: `...Body` is what the client
 * sends, `...Data` the `data` of the envelope it gets back.
 */
const NAMED: [string, TSchema, string][] = [
  ['Message', Message, 'A chat message; `seq` is 1, 2, 3, ... per session, without gaps.'],
  ['Rating', Rating, 'The visitor\'s rating of a closed chat (CSAT).'],
  ['PublicSession', PublicSession, 'What a visitor may see of their own session.'],
  ['Attachment', Attachment, 'A file uploaded to a session, to be sent with a message (messages carry it with a signed `url`).'],
  ['ApiError', (ErrorBody as Schema).properties?.error ?? ErrorBody, 'The `error` of a failed response\'s envelope.'],
  ['StartSessionBody', StartBody, 'POST /api/public/chat/sessions'],
  ['StartSessionData', dataOf(StartReply), 'POST /api/public/chat/sessions: 201 created, 200 resumed'],
  ['SendMessageBody', SendBody, 'POST /api/public/chat/sessions/:id/messages'],
  ['SendMessageData', dataOf(MessageReply), 'POST /api/public/chat/sessions/:id/messages: 201 stored, 200 a retry of a stored one'],
  ['PollQuery', PollQuery, 'GET /api/public/chat/sessions/:id/messages'],
  ['PollData', dataOf(PollReply), 'GET /api/public/chat/sessions/:id/messages'],
  ['ReadBody', ReadBody, 'POST /api/public/chat/sessions/:id/read'],
  ['UploadData', dataOf(UploadReply), 'POST /api/public/chat/sessions/:id/attachments (multipart, one part `file`): 201'],
  ['RatingBody', RatingBody, 'POST /api/public/chat/sessions/:id/rating'],
  ['RatingData', dataOf(RatingReply), 'POST /api/public/chat/sessions/:id/rating: 201'],
  ['AvailabilityData', dataOf(AvailabilityReply), 'GET /api/public/chat/availability'],
  ['ResumeBody', ResumeBody, 'POST /api/public/chat/resume: the `chat_resume` token of an email\'s link'],
  ['ResumeData', dataOf(ResumeReply), 'POST /api/public/chat/resume'],
  ['SocketQuery', SocketQuery, 'GET /api/public/chat/sessions/:id/ws (WebSocket upgrade)'],
  ['SocketMessageFrame', MessageFrame, 'Widget socket, client to server: send a message'],
  ['SocketPingFrame', PingFrame, 'Widget socket, client to server: answered by `{ "type": "pong" }`'],
]

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)
const key = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k))
const comment = (text: string | undefined, pad: string) => (text ? `${pad}/** ${text.replace(/\*\//g, '* /')} */\n` : '')

function typeOf(s: Schema, pad: string, self: string): string {
  // only names written before this one: two equal schemas would otherwise name each other
  const named = NAMED.slice(0, NAMED.findIndex(([name]) => name === self)).find(([, schema]) => same(schema, s))
  if (named) return named[0]
  if (s.const !== undefined) return JSON.stringify(s.const)
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ')
  if (s.anyOf) return s.anyOf.map((b) => typeOf(b, pad, self)).join(' | ')
  // `type: ['string', 'null']` (NullableString) is a union of its members
  if (Array.isArray(s.type)) return s.type.map((t) => typeOf({ ...s, type: t }, pad, self)).join(' | ')
  switch (s.type) {
    case 'string': return 'string'
    case 'integer':
    case 'number': return 'number'
    case 'boolean': return 'boolean'
    case 'null': return 'null'
    case 'array': {
      const item = s.items ? typeOf(s.items, pad, self) : 'unknown'
      return /[ |]/.test(item) ? `Array<${item}>` : `${item}[]`
    }
    case 'object': {
      const props = Object.entries(s.properties ?? {})
      const extra = s.patternProperties ? Object.values(s.patternProperties)[0] : typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined
      if (!props.length && extra) return `Record<string, ${typeOf(extra, pad, self)}>`
      const inner = `${pad}  `
      const lines = props.map(([k, v]) => `${comment(v.description, inner)}${inner}${key(k)}${s.required?.includes(k) ? '' : '?'}: ${typeOf(v, inner, self)}`)
      return `{\n${lines.join('\n')}\n${pad}}`
    }
    default: return 'unknown'
  }
}

/** The text of the generated file. */
export function clientWireTypes(): string {
  const head = [
    '// Generated by scripts/client-types.ts from the server\'s TypeBox schemas. Do not edit:',
    '// change the schema, then run `npm run generate:client` (npm install and npm run typecheck do too).',
    '',
  ]
  const body = NAMED.map(([name, schema, doc]) => `${comment(doc, '')}export type ${name} = ${typeOf(schema as Schema, '', name)}\n`)
  return `${head.join('\n')}\n${body.join('\n')}`
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(WIRE_FILE, clientWireTypes())
  console.log(`wrote ${WIRE_FILE}`)
}
