import { h } from '../shared/dom.js'
import { api } from './api.js'
import { dateTime, fileSize } from './format.js'
import { plural, t } from './i18n.js'

/** What GET /api/admin/backups answers (dates as ISO strings on the wire). */
export type BackupSettings = {
  scheduled: boolean
  everyHours: number | null
  keep: number
  directory: string | null
  encrypted: boolean
  last: { at: string; file: string; bytes: number } | null
  failure: { at: string; message: string } | null
  nextAt: string | null
}

const row = (term: string, ...value: (Node | string)[]) => [h('dt', {}, term), h('dd', {}, ...value)]

/** Settings an admin should see at a glance; for now the scheduled backups (set on the server, shown here). */
export async function settingsView(): Promise<HTMLElement> {
  const { backup } = await api<{ backup: BackupSettings }>('/api/admin/backups')
  const schedule = backup.scheduled && backup.everyHours !== null
    ? plural('backup.every', backup.everyHours, { keep: backup.keep })
    : t('backup.off')
  const facts = [
    ...row(t('backup.schedule'), schedule),
    ...(backup.directory ? row(t('backup.folder'), h('code', {}, backup.directory)) : []),
    ...row(t('backup.encryption'), backup.encrypted ? t('backup.encrypted') : t('backup.notEncrypted')),
    ...row(t('backup.last'), backup.last ? t('backup.lastValue', { when: dateTime(backup.last.at), size: fileSize(backup.last.bytes), file: backup.last.file }) : t('backup.none')),
    ...(backup.nextAt ? row(t('backup.next'), dateTime(backup.nextAt)) : []),
  ]
  const failure = backup.failure
    ? h('p', { class: 'error', role: 'alert' }, t('backup.failed', { when: dateTime(backup.failure.at), message: backup.failure.message }))
    : null
  return h('section', { class: 'page settings' }, h('h1', {}, t('nav.settings')),
    h('article', { class: 'card', 'aria-labelledby': 'backups-heading' },
      h('h2', { id: 'backups-heading' }, t('backup.heading')),
      failure,
      h('dl', {}, facts),
      h('p', { class: 'muted' }, t('backup.manual'))))
}
