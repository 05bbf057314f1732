import { mkdirSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { chromium, type Browser, type Page } from 'playwright-core'
import { buildTestApp } from './app.js'
import { waitFor } from './wait.js'

type Test = { teardown: (fn: () => unknown) => void }

export const CHROMIUM = '/usr/bin/chromium'
export const ARTIFACTS = 'test-artifacts'

/** One headless Debian Chromium for the whole test file (`args` added to its command line, e.g. its language). */
export async function launchBrowser(t: Test, args: string[] = []): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', ...args],
  })
  t.teardown(() => browser.close())
  // fail a test in bounded time rather than after playwright's 30 s default
  const newContext = browser.newContext.bind(browser)
  browser.newContext = async (options) => {
    const context = await newContext(options)
    context.setDefaultTimeout(15_000)
    return context
  }
  mkdirSync(ARTIFACTS, { recursive: true })
  return browser
}

/** The real app listening on loopback, as a browser reaches it (on this file's database unless another is given). */
export async function listeningApp(t: Test, env: Record<string, string> = {}, databaseUrl?: string): Promise<{ app: FastifyInstance; origin: string }> {
  const app = await buildTestApp(t, { env, databaseUrl })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  return { app, origin: `http://127.0.0.1:${port}` }
}

/** A customer's web site on another origin (another port) serving whatever `page()` returns. */
export async function hostSite(t: Test, page: () => string): Promise<string> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(page())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  // another port is another origin: the widget runs cross-origin, as on a customer's site
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** Opens the dashboard on `page` signed in with `token` (kept where the login form keeps it), at `hash` if given. */
export async function signInDashboard(page: Page, origin: string, token: string, hash = ''): Promise<void> {
  // localStorage is per origin: set it on a page of the origin that costs nothing (a 404), so
  // the dashboard starts once, signed in, instead of signed out and then again
  await page.goto(`${origin}/sign-in-test-fixture`)
  await page.evaluate((jwt) => localStorage.setItem('chatAdminToken', jwt), token)
  await page.goto(`${origin}/admin${hash}`)
}

/** Retries `check` until it returns a value (not undefined) or the time is up. */
export const eventually = <T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> =>
  waitFor(what, check, timeoutMs)

export const embedPage = (appOrigin: string, apiKey: string, attrs = '') =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Shop</title>
<style>body{margin:0;font:18px/1.6 Georgia,serif;background:#f4efe6;color:#2b2118}main{max-width:640px;padding:72px 48px}
h1{font-size:48px;line-height:1.1;margin:0 0 16px}
/* hostile host CSS: must not reach the widget inside its shadow root */
button{all:unset;color:red!important;font-size:40px!important}</style></head>
<body><main><h1>Northwind Coffee</h1><p>Single-origin beans, roasted on Tuesdays, at your door by Friday.</p></main>
<script src="${appOrigin}/widget.js" data-api-key="${apiKey}" data-locale="en" ${attrs} async></script></body></html>`
