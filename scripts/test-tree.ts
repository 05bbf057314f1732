/**
 * The tree the test processes run: a copy of the project in which every .ts file also has its
 * JavaScript next to it (esbuild, one call for the whole tree, about a second), so a test
 * process imports plain JavaScript and runs without tsx's loader. Through tsx, each ESM import
 * goes to tsx's loader thread and back: a process that imports tap and the app takes 2.6 s of
 * CPU that way, 1.5 s compiled and with no loader thread at all (package.json leaves out
 * @tapjs/mock, whose loader is one too), and a run starts ~140 test processes.
 *
 * Each compiled file's `import.meta.url` is its source's in the project, so what a file finds
 * from its own location (the project root for `npm start`, git and node_modules; drizzle/; the
 * web sources esbuild bundles at start) is the project's own. Test processes run in the copy
 * (tap's project root), so what they find from the working folder is there too. The copy sits
 * inside the project (under node_modules/.cache), so packages resolve as from the project; the
 * run removes it at its end. Imports named in tsconfig's `paths` (typebox's CommonJS build)
 * point where tsx points them in production.
 * Stack traces point at the .ts copies (inline source maps).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import ts from 'typescript'

/** Folders left out of the copy: installed, generated or written by the tests themselves. */
const NOT_COPIED = new Set(['node_modules', '.git', '.tap', '.data', 'test-artifacts'])

/** Where runs put their copies: each its own, so runs side by side in one project do not meet. */
export const testTreesDir = (root: string) => join(root, 'node_modules', '.cache', 'livechat')

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return NOT_COPIED.has(e.name) ? [] : tsFiles(path)
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : []
  })
}

/** The tap settings of the copy: those of the project, with test processes started without tsx. */
function withoutTsx(pkgJson: string): string {
  const pkg = JSON.parse(pkgJson) as { tap?: { 'node-arg'?: string[] } }
  if (pkg.tap) pkg.tap['node-arg'] = (pkg.tap['node-arg'] ?? []).filter((a) => a !== '--import=tsx')
  return JSON.stringify(pkg, null, 2)
}

/**
 * The tsconfig `paths` of the project as `"specifier"` → `"file URL"` (quoted, as they stand in
 * an import), so the copy loads what tsx loads in production (typebox's CommonJS build).
 */
function pathImports(root: string): [string, string][] {
  const { config } = ts.parseConfigFileTextToJson('tsconfig.json', readFileSync(join(root, 'tsconfig.json'), 'utf8'))
  const paths = (config as { compilerOptions?: { paths?: Record<string, string[]> } }).compilerOptions?.paths ?? {}
  const resolve = createRequire(join(root, 'package.json')).resolve
  return Object.entries(paths).flatMap(([specifier, [target]]) =>
    target === undefined ? [] : [[JSON.stringify(specifier), JSON.stringify(pathToFileURL(resolve(join(root, target))).href)]])
}

/** Copies the project to a new folder under testTreesDir(root) and compiles its .ts files in place there; returns the copy's path. */
export async function makeTestTree(root: string): Promise<string> {
  mkdirSync(testTreesDir(root), { recursive: true })
  const out = mkdtempSync(join(testTreesDir(root), 'test-tree-'))
  // entry by entry: the copy is inside the project
  for (const entry of readdirSync(root)) {
    if (!NOT_COPIED.has(entry)) cpSync(join(root, entry), join(out, entry), { recursive: true, verbatimSymlinks: true })
  }
  writeFileSync(join(out, 'package.json'), withoutTsx(readFileSync(join(root, 'package.json'), 'utf8')))
  const { outputFiles } = await build({
    entryPoints: tsFiles(out),
    write: false,
    outdir: out,
    outbase: out,
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: `node${process.versions.node.split('.')[0]}`,
    sourcemap: 'inline',
    sourcesContent: false,
    // what tsx gives: class fields as the ES2022 target defines them, type-only imports dropped
    tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true, useDefineForClassFields: true } },
    logLevel: 'warning',
  })
  const aliases = pathImports(root)
  for (const file of outputFiles) {
    const source = join(root, relative(out, file.path)).replace(/\.js$/, '.ts')
    const text = aliases.reduce((t, [specifier, url]) => t.replaceAll(`from ${specifier}`, `from ${url}`), file.text)
    writeFileSync(file.path, text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(source).href)))
  }
  if (!existsSync(join(out, 'src', 'app.js'))) throw new Error(`the test tree in ${out} was not compiled`)
  return out
}
