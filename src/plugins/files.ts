import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { sweepUnsentAttachments } from '../chat/attachments.js'
import { randomToken } from '../chat/secrets.js'
import { getOrCreateSetting } from '../chat/settings.js'
import { purgeDeletedFiles } from '../files/deletions.js'
import { fileLinks, linker, type FileLinks, type Linker } from '../files/links.js'
import { postgresFileStore } from '../files/postgres-store.js'
import type { FileStores } from '../files/store.js'
import { startLoop } from '../jobs/loop.js'

declare module 'fastify' {
  interface FastifyInstance {
    files: {
      stores: FileStores
      links: FileLinks
      /** the origin clients reached this server at, which attachment URLs start with */
      originOf: (req: FastifyRequest) => string
      /** messages and sessions as this request's client gets them: each attachment with its signed URL */
      linkFor: (req: FastifyRequest) => Linker
      /**
       * Deletes now the S3 objects of erased attachments (a job does it every few seconds
       * anyway); whoever erases sessions may call it after the delete. Files in Postgres go
       * with the session's rows at once.
       */
      purgeDeleted: () => Promise<number>
    }
  }
}

const JOBS_MS = 5_000
// an upload that has not finished after this is dead (its connection is long gone)
const INCOMPLETE_MS = 60 * 60_000
// a file nobody sent within a day will not be sent
const UNSENT_MS = 24 * 60 * 60_000
const SWEEP_BATCH = 500

/**
 * Attachment storage (Postgres, or S3 when S3_BUCKET is set), signed download links, and the
 * jobs that delete what is no longer needed.
 */
export default fp(async (app) => {
  const { attachments: cfg } = app.config
  // one secret for every instance, so a URL made by one works on all
  const secret = await getOrCreateSetting(app.db, 'file_url_secret', () => randomToken('', 48))
  const links = fileLinks(secret, cfg.urlTtlSeconds)
  const postgres = postgresFileStore(app.db)
  // the AWS SDK is loaded only when S3 is used: it is most of a second of start-up
  const s3 = cfg.s3 ? (await import('../files/s3-store.js')).s3FileStore(cfg.s3) : undefined
  const stores: FileStores = { current: s3 ?? postgres, byKind: s3 ? { postgres, s3 } : { postgres } }
  const originOf = (req: FastifyRequest) => `${req.protocol}://${req.host}`

  app.decorate('files', {
    stores,
    links,
    originOf,
    linkFor: (req: FastifyRequest) => linker(links, originOf(req)),
    purgeDeleted: () => purgeDeletedFiles(app.db, stores),
  })

  const jobs = startLoop(JOBS_MS, async () => {
    await sweepUnsentAttachments(app.db, { incompleteMs: INCOMPLETE_MS, unsentMs: UNSENT_MS, limit: SWEEP_BATCH })
    await purgeDeletedFiles(app.db, stores)
  }, (err) => app.log.warn({ err }, 'attachment clean-up failed'))
  app.addHook('onClose', async () => {
    await jobs.stop()
    s3?.client.destroy()
  })
}, { name: 'files', dependencies: ['db'] })
