import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { nextBackupAt, readBackupStatus } from '../../../backup/schedule.js'
import { DateTime, ErrorBody, Nullable, Ok, ok } from '../../../http/schemas.js'

const BackupView = Type.Object({
  scheduled: Type.Boolean(),
  everyHours: Nullable(Type.Number()),
  keep: Type.Integer(),
  directory: Nullable(Type.String()),
  encrypted: Type.Boolean(),
  last: Nullable(Type.Object({ at: DateTime, file: Type.String(), bytes: Type.Integer() })),
  /** set while the newest attempt failed */
  failure: Nullable(Type.Object({ at: DateTime, message: Type.String() })),
  nextAt: Nullable(DateTime),
})

export default (async (app) => {
  app.get('/backups', {
    schema: {
      summary: 'Scheduled backups: settings and the last outcome',
      description: 'BACKUP_DIR, BACKUP_EVERY_HOURS and BACKUP_KEEP as configured, the last scheduled backup (time, file, size), and the failure of the newest attempt if it failed.',
      tags: ['admin'],
      security: [{ bearer: [] }],
      response: { 200: Ok(Type.Object({ backup: BackupView })), '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.admin },
    preParsing: app.requireAdmin,
  }, async () => {
    const { dir, everyHours, keep, key } = app.config.backup
    const status = await readBackupStatus(app.db)
    const failing = status.lastFailure && (!status.last || status.lastFailure.at > status.last.at) ? status.lastFailure : null
    const scheduled = dir !== undefined && everyHours !== undefined
    return ok({
      backup: {
        scheduled,
        everyHours: everyHours ?? null,
        keep,
        directory: dir ?? null,
        encrypted: key !== undefined,
        last: status.last,
        failure: failing,
        nextAt: scheduled ? nextBackupAt(status, everyHours, app.clock()) : null,
      },
    })
  })
}) satisfies FastifyPluginAsyncTypebox
