/** One file's world for the widget's second-part features in Chromium (widget-features and widget-after-chat). */
import type { Test } from 'tap'
import type { BrowserContext } from 'playwright-core'
import { embedPage, eventually, hostSite, launchBrowser, listeningApp } from './browser.js'
import { bearer, makeSite, makeStaff, type Staff } from './fixtures.js'
import { launcher, messageBox } from './widget.js'

/** What axe checks on the widget's pages: the widget only, not the host page around it. */
export const WIDGET = { include: '[data-chat-widget]' }

/**
 * One browser, one server, one host page and one agent for the file; each test's `setup` gets
 * a new site and a new browser context. Email is on (the transcript route answers 202 once it
 * is queued); nothing listens there, which these files do not need.
 */
export async function widgetFeatures(file: Test) {
  const browser = await launchBrowser(file)
  const { app, origin } = await listeningApp(file, { SMTP_URL: 'smtp://127.0.0.1:9', EMAIL_FROM: 'chat@shop.example' })
  let html = ''
  const pageOrigin = await hostSite(file, () => html)
  const agent = await makeStaff(app, 'agent', 'Olena')

  async function setup(t: Test, locale = 'en', beforeLoad?: (context: BrowserContext) => Promise<void>) {
    const site = await makeSite(app, [pageOrigin])
    html = embedPage(origin, site.apiKey).replace('data-locale="en"', `data-locale="${locale}"`)
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true })
    t.teardown(() => context.close())
    await beforeLoad?.(context)
    const page = await context.newPage()
    await page.goto(pageOrigin)
    return { app, origin, pageOrigin, site, agent, context, page }
  }
  return { setup }
}

export type FeatureSetup = Awaited<ReturnType<Awaited<ReturnType<typeof widgetFeatures>>['setup']>>

/** The visitor opens the chat and writes `text`; resolves to the session's id once it is stored. */
export async function openAndSend(s: FeatureSetup, text: string): Promise<string> {
  await launcher(s.page).click()
  await messageBox(s.page).fill(text)
  await messageBox(s.page).press('Enter')
  await s.page.getByText(text).locator('xpath=..').getByText(/\d\d:\d\d/).waitFor()
  return eventually(async () => (await s.page.evaluate(() => localStorage.getItem('chatSessionId'))) ?? undefined, 'the session id')
}

export const reply = (s: FeatureSetup, sessionId: string, body: Record<string, unknown>, staff: Staff = s.agent) =>
  s.app.inject({ method: 'POST', url: `/api/chat/sessions/${sessionId}/messages`, headers: bearer(staff), payload: body })

export const availability = async (s: FeatureSetup): Promise<{ online?: boolean }> =>
  (await s.app.inject({ method: 'GET', url: '/api/public/chat/availability', headers: { 'x-api-key': s.site.apiKey } })).json().data ?? {}

export const adminSession = async (s: FeatureSetup, sessionId: string) =>
  (await s.app.inject({ method: 'GET', url: `/api/chat/sessions/${sessionId}`, headers: bearer(s.agent) })).json().data
