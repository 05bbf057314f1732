import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { BACKUP_LOCK_NAMESPACE, readBackupStatus, scheduledBackupRound, type ScheduleDeps } from '../../src/backup/schedule.js'
import { ENCRYPTED_MAGIC } from '../../src/backup/crypto.js'
import { advisoryLocks } from '../../src/jobs/locks.js'
import { buildTestApp, freshDatabase } from '../helpers/app.js'
import { tempDir } from '../helpers/backup-fixture.js'
import { bearer, makeStaff } from '../helpers/fixtures.js'
import { waitFor } from '../helpers/wait.js'

const METRICS_TOKEN = 'metrics-token-for-backup-tests'
const backupFiles = (dir: string) => readdirSync(dir).filter((n) => /^livechat-.*\.backup$/.test(n)).sort()
// about 1.1 s between backups: the schedule, not a stand-in for it
const EVERY_HOURS = '0.0003'

t.test('two instances due at once take one backup between them', async (t) => {
  const databaseUrl = await freshDatabase()
  const a = await buildTestApp(t, { databaseUrl })
  const b = await buildTestApp(t, { databaseUrl })
  const dir = tempDir(t)
  const deps = (app: typeof a): ScheduleDeps => {
    const locks = advisoryLocks(databaseUrl, BACKUP_LOCK_NAMESPACE)
    t.teardown(() => locks.close())
    return { db: app.db, sql: app.sql, locks, config: { dir, everyHours: 24, keep: 3, key: undefined }, clock: () => new Date() }
  }
  const outcomes = await Promise.all([scheduledBackupRound(deps(a)), scheduledBackupRound(deps(b))])
  t.same(outcomes.sort(), outcomes.includes('busy') ? ['busy', 'taken'] : ['not due', 'taken'], `one took it (${outcomes.join(', ')})`)
  t.equal(backupFiles(dir).length, 1)
  t.equal(await scheduledBackupRound(deps(a)), 'not due', 'the next one waits BACKUP_EVERY_HOURS')
})

t.test('scheduled backups keep the newest BACKUP_KEEP files; /metrics and the admin API tell the last one', async (t) => {
  const dir = join(tempDir(t), 'backups')
  const app = await buildTestApp(t, {
    databaseUrl: await freshDatabase(),
    env: { BACKUP_DIR: dir, BACKUP_EVERY_HOURS: EVERY_HOURS, BACKUP_KEEP: '2', BACKUP_KEY: 'scheduled backups key', METRICS_TOKEN },
  })
  const seen = new Set<string>()
  await waitFor('three scheduled backups', async () => {
    const { last } = await readBackupStatus(app.db)
    if (last) seen.add(last.at)
    return seen.size >= 3 ? true : undefined
  }, 30_000)
  const recorded = (await readBackupStatus(app.db)).last
  if (!recorded) throw new Error('no backup recorded')
  const metrics = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  const stamp = Number(/^backup_last_success_timestamp_seconds (\S+)$/m.exec(metrics.body)?.[1])
  const size = Number(/^backup_last_size_bytes (\S+)$/m.exec(metrics.body)?.[1])
  t.ok(stamp >= Date.parse(recorded.at) / 1000, 'the last backup time is a metric')
  t.ok(size > 0, 'so is its size')

  const admin = await makeStaff(app, 'admin')
  const res = await app.inject({ method: 'GET', url: '/api/admin/backups', headers: bearer(admin) })
  t.equal(res.statusCode, 200)
  t.match(res.json().data.backup, { scheduled: true, everyHours: Number(EVERY_HOURS), keep: 2, directory: dir, encrypted: true, failure: null, last: { file: String, bytes: Number } })

  // A round prunes right after recording its backup, so while one runs there are BACKUP_KEEP + 1
  // files for a moment: the files are counted once the schedule has stopped, its round in flight
  // finished (at most that one round since `last` was read)
  const { last } = await readBackupStatus(app.db)
  if (!last) throw new Error('no backup recorded')
  await app.close()
  const files = backupFiles(dir)
  t.ok(files.length <= 2, `at most BACKUP_KEEP files (${files.join(', ')})`)
  t.ok(files.includes(last.file), 'the newest is kept')
  const path = join(dir, last.file)
  t.equal(statSync(path).mode & 0o777, 0o600)
  t.ok(readFileSync(path).subarray(0, ENCRYPTED_MAGIC.length).equals(ENCRYPTED_MAGIC), 'encrypted with BACKUP_KEY')
})

t.test('a backup that cannot be written is reported, and the schedule keeps trying', async (t) => {
  const blocker = join(tempDir(t), 'not-a-folder')
  writeFileSync(blocker, 'a file where the folder should be')
  const app = await buildTestApp(t, {
    databaseUrl: await freshDatabase(),
    env: { BACKUP_DIR: blocker, BACKUP_EVERY_HOURS: EVERY_HOURS, METRICS_TOKEN },
  })
  const failure = await waitFor('a failed backup', async () => (await readBackupStatus(app.db)).lastFailure ?? undefined, 15_000)
  t.match(failure.message, /not-a-folder/)
  const admin = await makeStaff(app, 'admin')
  const view = (await app.inject({ method: 'GET', url: '/api/admin/backups', headers: bearer(admin) })).json().data.backup
  t.match(view, { scheduled: true, last: null, failure: { message: /not-a-folder/ } })
  const metrics = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  t.match(metrics.body, /^backup_last_failure_timestamp_seconds [1-9]/m)
  t.match(metrics.body, /^backup_last_success_timestamp_seconds 0$/m)
})
