import { mkdir, readdir, rm } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { Executor, Sql } from '../db/client.js'
import { getSetting, setSetting } from '../chat/settings.js'
import type { AdvisoryLocks } from '../jobs/locks.js'
import { backupToFile, type BackupFile } from './backup.js'

/** Where every instance reads the last backup's outcome (app_settings, so all instances agree). */
const LAST_KEY = 'backup.last'
const FAILURE_KEY = 'backup.lastFailure'
// advisory lock (namespace, key) held while a scheduled backup is taken
export const BACKUP_LOCK_NAMESPACE = 746_002
const BACKUP_LOCK_KEY = 1
const HOUR_MS = 3_600_000
/** how often an instance looks whether a backup is due (at most) */
const CHECK_MAX_MS = 5 * 60_000

export type BackupStatus = {
  last: { at: string; file: string; bytes: number } | null
  lastFailure: { at: string; message: string } | null
}

const FILE_NAME = /^livechat-\d{8}T\d{9}Z\.backup(\.partial)?$/
/** livechat-20261130T104747634Z.backup: sorts by time, names no secret */
export const backupFileName = (at: Date) => `livechat-${at.toISOString().replace(/[-:.]/g, '')}.backup`

function parsed<T>(value: string | undefined): T | null {
  if (value === undefined) return null
  try {
    return JSON.parse(value) as T
  } catch {
    return null
  }
}

export async function readBackupStatus(db: Executor): Promise<BackupStatus> {
  return { last: parsed(await getSetting(db, LAST_KEY)), lastFailure: parsed(await getSetting(db, FAILURE_KEY)) }
}

export async function recordBackup(db: Executor, at: Date, backup: BackupFile): Promise<void> {
  await setSetting(db, LAST_KEY, JSON.stringify({ at: at.toISOString(), file: backup.file, bytes: backup.bytes }))
}

export const checkIntervalMs = (everyHours: number) => Math.min(CHECK_MAX_MS, everyHours * HOUR_MS)

export function nextBackupAt(status: BackupStatus, everyHours: number, now: Date): Date {
  return status.last ? new Date(Math.max(now.getTime(), Date.parse(status.last.at) + everyHours * HOUR_MS)) : now
}

/** Deletes all but the newest `keep` backups, and partial files left by a backup that died (only the lock holder writes one). */
async function prune(dir: string, keep: number): Promise<void> {
  const names = (await readdir(dir)).filter((n) => FILE_NAME.test(n)).sort().reverse()
  const complete = names.filter((n) => n.endsWith('.backup'))
  const doomed = [...complete.slice(keep), ...names.filter((n) => n.endsWith('.partial'))]
  await Promise.all(doomed.map((n) => rm(join(dir, n), { force: true })))
}

export type ScheduleDeps = {
  db: Executor
  sql: Sql
  locks: AdvisoryLocks
  config: { dir: string; everyHours: number; keep: number; key: string | undefined }
  clock: () => Date
}

/**
 * One look at the schedule: when the last backup is older than BACKUP_EVERY_HOURS, take one
 * into BACKUP_DIR and keep the newest BACKUP_KEEP. Instances sharing the database take
 * turns under an advisory lock, and the shared record makes the others find it done.
 */
export async function scheduledBackupRound(deps: ScheduleDeps): Promise<'taken' | 'not due' | 'busy'> {
  const { db, sql, locks, config, clock } = deps
  if (!(await locks.tryLock(BACKUP_LOCK_KEY))) return 'busy'
  try {
    const now = clock()
    if (nextBackupAt(await readBackupStatus(db), config.everyHours, now) > now) return 'not due'
    try {
      await mkdir(config.dir, { recursive: true, mode: 0o700 })
      await prune(config.dir, config.keep)
      const backup = await backupToFile(sql, join(config.dir, backupFileName(now)), { key: config.key, now })
      await recordBackup(db, now, { ...backup, file: basename(backup.file) })
      await prune(config.dir, config.keep)
      return 'taken'
    } catch (err) {
      await setSetting(db, FAILURE_KEY, JSON.stringify({ at: now.toISOString(), message: (err as Error).message }))
      throw err
    }
  } finally {
    await locks.unlock(BACKUP_LOCK_KEY)
  }
}
