// requires: chromium
import { join } from 'node:path'
import t from 'tap'
import type { Browser } from 'playwright-core'
import { readBackupStatus } from '../../src/backup/schedule.js'
import { freshDatabase } from '../helpers/app.js'
import { expectAccessible } from '../helpers/axe.js'
import { tempDir } from '../helpers/backup-fixture.js'
import { ARTIFACTS, launchBrowser, listeningApp, signInDashboard } from '../helpers/browser.js'
import { makeStaff } from '../helpers/fixtures.js'
import { waitFor } from '../helpers/wait.js'

let browser: Browser
t.before(async () => {
  browser = await launchBrowser(t)
})

async function dashboardAs(t: { teardown: (fn: () => unknown) => void }, origin: string, token: string) {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } })
  t.teardown(() => context.close())
  await context.routeWebSocket(/\/api\/chat\/ws/, () => {})
  const page = await context.newPage()
  await signInDashboard(page, origin, token)
  return page
}

t.test('an admin finds the last scheduled backup, its size and the schedule on the Settings page', async (t) => {
  const dir = join(tempDir(t), 'backups')
  const { app, origin } = await listeningApp(t, { BACKUP_DIR: dir, BACKUP_EVERY_HOURS: '24', BACKUP_KEEP: '5' }, await freshDatabase())
  const last = await waitFor('the first scheduled backup', async () => (await readBackupStatus(app.db)).last ?? undefined, 15_000)
  const admin = await makeStaff(app, 'admin')
  const dash = await dashboardAs(t, origin, admin.token)
  await dash.getByRole('link', { name: 'Settings' }).click()
  const backups = dash.getByRole('article', { name: 'Backups' })
  await backups.waitFor()
  await backups.getByText('Every 24 hours, keeping the newest 5').waitFor()
  await backups.getByText(last.file).waitFor()
  t.match(await backups.textContent(), /Last backup.*\d+(\.\d)? (byte|kB|MB)/, 'the last backup with its size')
  t.match(await backups.textContent(), /Off\. Backups hold password hashes/, 'says that encryption is off and why it matters')
  t.equal(await dash.getByRole('link', { name: 'Settings' }).getAttribute('aria-current'), 'page')
  await expectAccessible(t, dash, 'dashboard settings')
  await dash.screenshot({ path: `${ARTIFACTS}/dashboard-settings.png` })

  await dash.getByRole('combobox', { name: 'Language' }).selectOption({ label: 'Українська' })
  await dash.getByRole('article', { name: 'Резервні копії' }).getByText('Кожні 24 години').waitFor()
  await expectAccessible(t, dash, 'dashboard settings in Ukrainian')
})

t.test('without a schedule the page says how to turn it on; agents have no Settings page', async (t) => {
  const { app, origin } = await listeningApp(t, {}, await freshDatabase())
  const admin = await makeStaff(app, 'admin')
  const dash = await dashboardAs(t, origin, admin.token)
  await dash.getByRole('link', { name: 'Settings' }).click()
  await dash.getByText('Off. Set BACKUP_DIR and BACKUP_EVERY_HOURS').waitFor()
  await dash.getByText('None yet').waitFor()
  await expectAccessible(t, dash, 'dashboard settings, backups off')
  // on a phone the page scrolls inside <main>, which a keyboard user must be able to reach
  await dash.setViewportSize({ width: 375, height: 667 })
  await expectAccessible(t, dash, 'dashboard settings on a phone')

  const agent = await makeStaff(app, 'agent')
  const agentDash = await dashboardAs(t, origin, agent.token)
  await agentDash.getByRole('link', { name: 'Statistics' }).waitFor()
  t.equal(await agentDash.getByRole('link', { name: 'Settings' }).count(), 0)
})
