/**
 * Some test files need a system service that npm cannot install (a Debian package). Such a
 * file says so in a first-line comment, `// requires: redis-server`. Without the command the
 * file is skipped with a loud reason naming the package; with TEST_REQUIRE_ALL=1 (CI, which
 * installs them) a missing one fails the run instead, so a skip never passes unseen.
 */
import { accessSync, constants, readFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'

/** command → the Debian package that brings it */
export const DEBIAN_PACKAGES: Record<string, string> = {
  chromium: 'chromium',
  'redis-server': 'redis-server',
  'nats-server': 'nats-server',
}

const REQUIRES_LINE = /^\/\/ requires: (.+)$/m

export function requiredCommands(file: string): string[] {
  const head = readFileSync(file, 'utf8').slice(0, 500)
  const m = REQUIRES_LINE.exec(head)
  return m?.[1] ? m[1].split(/[\s,]+/).filter(Boolean) : []
}

/** Where `command` is, on PATH or in an sbin folder; undefined when it is not installed. */
export function commandPath(command: string, path = process.env.PATH ?? ''): string | undefined {
  // sbin folders too: Debian puts nats-server in /usr/sbin, which a normal user's PATH lacks
  const dirs = [...path.split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin']
  for (const dir of dirs) {
    try {
      accessSync(join(dir, command), constants.X_OK)
      return join(dir, command)
    } catch {
      // not in this folder
    }
  }
  return undefined
}

export function hasCommand(command: string, path = process.env.PATH ?? ''): boolean {
  return commandPath(command, path) !== undefined
}

export type Gate = { run: string[]; skipped: { file: string; missing: string[] }[] }

/** Splits test files into those whose system services are present and those to skip. */
export function gateTestFiles(files: string[]): Gate {
  const gate: Gate = { run: [], skipped: [] }
  for (const file of files) {
    const missing = requiredCommands(file).filter((c) => !hasCommand(c))
    if (missing.length === 0) gate.run.push(file)
    else gate.skipped.push({ file, missing })
  }
  return gate
}

export const skipReason = (missing: string[]) =>
  missing.map((c) => `${c} (Debian package "${DEBIAN_PACKAGES[c] ?? c}": apt-get install ${DEBIAN_PACKAGES[c] ?? c})`).join(', ')
