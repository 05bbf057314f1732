import type { Readable } from 'node:stream'
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { getAttachment } from '../../../chat/attachments.js'
import { forbidden, notFound } from '../../../chat/errors.js'
import { FileMissing } from '../../../files/store.js'
import { INLINE_TYPES, savedName, TEXT } from '../../../files/sniff.js'
import { ErrorBody, Id, NotJson } from '../../../http/schemas.js'

const FileParams = Type.Object({
  id: Id(),
  name: Type.String({ maxLength: 1024, description: 'the file name, for the browser; not checked' }),
})
const FileQuery = Type.Object({
  expires: Type.Integer({ minimum: 0, maximum: 2 ** 40, description: 'Unix time the link stops working at' }),
  sig: Type.String({ maxLength: 128 }),
})

// what a name may show in the plain `filename=` fallback (RFC 6266); the exact name goes in `filename*`
const NOT_TOKEN_SAFE = /[^\x20-\x7e]|["\\%;]/g

function contentDisposition(contentType: string, shownName: string): string {
  const kind = INLINE_TYPES.has(contentType) ? 'inline' : 'attachment'
  const name = savedName(shownName, contentType)
  return `${kind}; filename="${name.replace(NOT_TOKEN_SAFE, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`
}

export default (async (app) => {
  app.get('/:id/:name', {
    schema: {
      summary: 'Download an attached file (signed link)',
      description: [
        'The `url` of an attachment in a Message: no headers needed (usable in <img src>), works on every instance until `expires`.',
        'A tampered or expired link is 403, a file that was erased 404. Images are served inline, everything else with',
        '`Content-Disposition: attachment`; always with the checked Content-Type and `X-Content-Type-Options: nosniff`.',
        'The file name offered for saving ends in an extension of the checked type (`invoice.bat` holding text is saved as `invoice.bat.txt`).',
      ].join(' '),
      tags: ['public'],
      params: FileParams,
      querystring: FileQuery,
      response: { 200: NotJson('*/*', 'the file, with its checked Content-Type', Type.Unsafe<Readable>({ type: 'string', format: 'binary' })), '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.public },
  }, async (req, reply) => {
    const { id } = req.params
    const check = app.files.links.check(id, req.query.expires, req.query.sig)
    if (check === 'forged') throw forbidden('This link is not valid')
    if (check === 'expired') throw forbidden('This link has expired; open the conversation again for a fresh one')
    const file = await getAttachment(app.db, id)
    const store = file && app.files.stores.byKind[file.storage]
    if (!file || !store) throw notFound('File')
    let body
    try {
      body = await store.open(file.id)
    } catch (err) {
      if (err instanceof FileMissing) throw notFound('File')
      throw err
    }
    const maxAgeSeconds = Math.max(0, req.query.expires - Math.floor(Date.now() / 1000))
    return reply
      .header('content-type', file.contentType === TEXT ? 'text/plain; charset=utf-8' : file.contentType)
      .header('content-length', file.size)
      .header('content-disposition', contentDisposition(file.contentType, file.name))
      .header('x-content-type-options', 'nosniff')
      // the link is the credential: browsers may keep the file while it holds, shared caches never
      .header('cache-control', `private, max-age=${maxAgeSeconds}, immutable`)
      // nothing served here may run: a document opened from this origin gets no script, no plugins, no forms
      .header('content-security-policy', "default-src 'none'; sandbox")
      // widgets on customers' sites show these images: allow embedding from other origins
      .header('cross-origin-resource-policy', 'cross-origin')
      .send(body)
  })
}) satisfies FastifyPluginAsyncTypebox
