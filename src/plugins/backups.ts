import fp from 'fastify-plugin'
import { Gauge } from 'prom-client'
import { BACKUP_LOCK_NAMESPACE, checkIntervalMs, readBackupStatus, scheduledBackupRound, type BackupStatus } from '../backup/schedule.js'
import { advisoryLocks } from '../jobs/locks.js'
import { startLoop } from '../jobs/loop.js'

const seconds = (iso: string) => Date.parse(iso) / 1000

/**
 * Scheduled backups (BACKUP_DIR and BACKUP_EVERY_HOURS; off unless both are set): every
 * instance looks, one at a time takes it. The last one's time and size are metrics, read
 * from the shared record at scrape time so every instance reports the same.
 */
export default fp<{ databaseUrl: string }>(async (app, opts) => {
  const { backup } = app.config
  const gauge = (name: string, help: string, value: (status: BackupStatus) => number) => new Gauge({
    name, help, registers: [app.metrics],
    async collect() {
      this.set(value(await readBackupStatus(app.db)))
    },
  })
  gauge('backup_last_success_timestamp_seconds', 'When the last scheduled backup was taken (Unix time; 0: never)', (s) => (s.last ? seconds(s.last.at) : 0))
  gauge('backup_last_size_bytes', 'Size of the last scheduled backup file (0: none yet)', (s) => s.last?.bytes ?? 0)
  gauge('backup_last_failure_timestamp_seconds', 'When a scheduled backup last failed (Unix time; 0: never)', (s) => (s.lastFailure ? seconds(s.lastFailure.at) : 0))

  const { dir, everyHours } = backup
  if (dir === undefined || everyHours === undefined) return
  const locks = advisoryLocks(opts.databaseUrl, BACKUP_LOCK_NAMESPACE)
  const deps = { db: app.db, sql: app.sql, locks, config: { ...backup, dir, everyHours }, clock: app.clock }
  const loop = startLoop(checkIntervalMs(everyHours), async () => {
    const outcome = await scheduledBackupRound(deps)
    if (outcome === 'taken') app.log.info({ dir }, 'scheduled backup taken')
  }, (err) => app.log.error({ err }, 'scheduled backup failed'))
  app.addHook('onClose', async () => {
    await loop.stop()
    await locks.close()
  })
}, { name: 'backups', dependencies: ['db', 'metrics'] })
