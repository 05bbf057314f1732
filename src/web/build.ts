import { createHash } from 'node:crypto'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build, type BuildOptions } from 'esbuild'

const WEB_DIR = dirname(fileURLToPath(import.meta.url))

/**
 * gzip bytes allowed: the launcher every page pays until the chat is opened, and everything
 * (launcher + the UI chunk loaded on intent, the client SDK inside it).
 */
export const WIDGET_BUDGETS = { loaderGzipBytes: 4 * 1024, totalGzipBytes: 16 * 1024 }
export type WidgetBudgets = typeof WIDGET_BUDGETS

/** `gzip`: the body compressed once at build, sent to clients that take gzip (and what the budgets measure). */
export type Asset = { body: Buffer; gzip: Buffer; etag: string; type: string }
export type WebAssets = {
  loader: Asset
  /** served under /widget/<name>; the name carries the content hash */
  ui: Asset & { name: string }
  dashboardJs: Asset & { name: string }
  dashboardCss: Asset & { name: string }
  sizes: { loaderGzipBytes: number; uiGzipBytes: number; totalGzipBytes: number }
}

export class BudgetError extends Error {}

const hashOf = (body: Buffer) => createHash('sha256').update(body).digest('base64url').slice(0, 12)
const asset = (body: Buffer, type: string): Asset => ({ body, gzip: gzipSync(body, { level: 9 }), type, etag: `"${hashOf(body)}"` })

async function bundle(entry: string, options: BuildOptions = {}): Promise<Buffer> {
  const result = await build({
    entryPoints: [join(WEB_DIR, entry)],
    bundle: true,
    minify: true,
    write: false,
    legalComments: 'none',
    target: ['es2020', 'safari15'],
    logLevel: 'silent',
    ...options,
  })
  const [out] = result.outputFiles ?? []
  if (!out) throw new Error(`esbuild produced nothing for ${entry}`)
  return Buffer.from(out.contents)
}

/** Bundles the widget and the dashboard in memory (about a quarter of a second). */
export async function buildWebAssets(): Promise<WebAssets> {
  const [uiBody, dashboardJsBody, dashboardCssBody] = await Promise.all([
    // UTF-8, not \u escapes, for the uk and ru texts: 90 B less gzip (a module script is always read as UTF-8).
    // The chunk runs only in browsers, which all have XMLHttpRequest: the SDK's upload path for Node
    // (fetch through a counting stream) drops out, 190 B less gzip
    bundle('widget/ui.ts', { format: 'esm', charset: 'utf8', define: { 'globalThis.XMLHttpRequest': 'true' } }),
    bundle('dashboard/main.ts', { format: 'iife' }),
    bundle('dashboard/styles.css'),
  ])
  const uiName = `ui.${hashOf(uiBody)}.js`
  // the loader learns its chunk's hashed name at build time, so the chunk can be cached forever
  const loaderBody = await bundle('widget/loader.ts', { format: 'iife', define: { __UI_CHUNK__: JSON.stringify(`widget/${uiName}`) } })
  const loader = asset(loaderBody, 'text/javascript; charset=utf-8')
  const ui = { ...asset(uiBody, 'text/javascript; charset=utf-8'), name: uiName }
  return {
    loader,
    ui,
    dashboardJs: { ...asset(dashboardJsBody, 'text/javascript; charset=utf-8'), name: `app.${hashOf(dashboardJsBody)}.js` },
    dashboardCss: { ...asset(dashboardCssBody, 'text/css; charset=utf-8'), name: `app.${hashOf(dashboardCssBody)}.css` },
    sizes: { loaderGzipBytes: loader.gzip.length, uiGzipBytes: ui.gzip.length, totalGzipBytes: loader.gzip.length + ui.gzip.length },
  }
}

/** Throws a BudgetError naming every part over its budget. */
export function checkBudgets(sizes: WebAssets['sizes'], budgets: WidgetBudgets = WIDGET_BUDGETS): void {
  const over = (Object.keys(budgets) as (keyof WidgetBudgets)[])
    .filter((k) => sizes[k] > budgets[k])
    .map((k) => `${k}: ${sizes[k]} B > ${budgets[k]} B`)
  if (over.length) throw new BudgetError(`widget over its size budget: ${over.join(', ')}`)
}
