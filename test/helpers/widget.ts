/** The widget as a visitor drives it in Chromium: its controls by role and name, and the session an agent then sees. */
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { Browser, BrowserContextOptions, Page } from 'playwright-core'
import { embedPage, eventually, hostSite } from './browser.js'
import { bearer, makeSite, makeStaff, type Staff } from './fixtures.js'

export type AdminSession = { id: string; status: string; pageUrl: string | null; lastMessage: { text: string } | null }

/**
 * Per test: a customer's page on another origin embedding the widget for a site of its own,
 * an agent, and a fresh browser context (one browser and one app serve a whole file).
 */
export const widgetSetup = (browser: Browser, app: FastifyInstance, origin: string) => async (t: Test, contextOptions: BrowserContextOptions = {}) => {
  let html = ''
  const pageOrigin = await hostSite(t, () => html)
  const site = await makeSite(app, [pageOrigin])
  html = embedPage(origin, site.apiKey)
  const agent = await makeStaff(app)
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...contextOptions })
  t.teardown(() => context.close())
  const page = await context.newPage()
  return { app, origin, pageOrigin, agent, context, page }
}

export const launcher = (page: Page) => page.getByRole('button', { name: /chat/i }).first()
export const messageBox = (page: Page) => page.getByRole('textbox', { name: 'Message' })

export async function send(page: Page, text: string): Promise<void> {
  await messageBox(page).fill(text)
  await messageBox(page).press('Enter')
}

/** The visitor opens the site's page and the chat, and writes `text`. */
export async function openChatAndSend(page: Page, pageOrigin: string, text: string): Promise<void> {
  await page.goto(pageOrigin)
  await launcher(page).click()
  await send(page, text)
}

/** What has the keyboard focus, if it is inside the open chat panel (a control that went away leaves it on the page's body). */
export const focusInPanel = (page: Page) => page.evaluate(() => {
  const focused = document.querySelector('[data-chat-widget]')?.shadowRoot?.activeElement
  return focused?.closest('[role="dialog"]') ? focused.getAttribute('aria-label') ?? focused.textContent : null
})

/** The session whose last message is `text`, as an agent sees it through the admin API. */
export function sessionWith(app: FastifyInstance, agent: Staff, text: string): Promise<AdminSession> {
  return eventually(async () => {
    const res = await app.inject({ method: 'GET', url: '/api/chat/sessions', headers: bearer(agent) })
    return (res.json().data.sessions as AdminSession[]).find((s) => s.lastMessage?.text === text)
  }, `a session whose last message is "${text}"`)
}
