/**
 * Collects the failed tests from tap's TAP output as it streams, so that `npm test` can end
 * with them. CI keeps only the tail of a run's output: a failure in the 40th of 140 files
 * would otherwise be out of sight, with only "1 failed" at the end to say it happened.
 */

const MAX_FAILURES = 20
const MAX_DETAIL_LINES = 40

interface Failure {
  /** file, subtests and test name, outermost first */
  path: string[]
  /** the YAML block tap prints under the failure: message, diff, stack, where */
  detail: string[]
}

export const stripAnsi = (s: string) => s.replace(new RegExp(String.fromCharCode(27) + '\\[[0-9;]*m', 'g'), '')

const SUBTEST = /^(\s*)# Subtest: (.*)$/
const RESULT = /^(\s*)(not )?ok \d+ - (.*?)(?: # time=[\d.]+ms)?$/

export class TapFailures {
  private pending = ''
  /** open subtests by depth (4 spaces each) */
  private readonly open: string[] = []
  private readonly failures: Failure[] = []
  /** the failure whose YAML block is being read, and the indentation it sits at */
  private reading: { failure: Failure; indent: number; started: boolean } | null = null

  push(chunk: string): void {
    const lines = (this.pending + stripAnsi(chunk)).split('\n')
    this.pending = lines.pop() ?? ''
    for (const line of lines) this.line(line)
  }

  private line(line: string): void {
    if (this.reading && this.detailLine(line, this.reading)) return
    this.reading = null
    const subtest = SUBTEST.exec(line)
    if (subtest) {
      const [, indent = '', name = ''] = subtest
      this.open.length = indent.length / 4
      this.open.push(name)
      return
    }
    const result = RESULT.exec(line)
    if (!result) return
    const [, indent = '', failed, name = ''] = result
    this.open.length = indent.length / 4
    if (!failed) return
    const failure: Failure = { path: [...this.open, name], detail: [] }
    this.failures.push(failure)
    this.reading = { failure, indent: indent.length + 2, started: false }
  }

  /** true while the line belongs to the failure's YAML block (`---` … `...`) */
  private detailLine(line: string, reading: { failure: Failure; indent: number; started: boolean }): boolean {
    const body = line.slice(reading.indent)
    if (!reading.started) {
      if (body !== '---') return false
      reading.started = true
      return true
    }
    if (body === '...') {
      this.reading = null
      return true
    }
    if (reading.failure.detail.length < MAX_DETAIL_LINES) reading.failure.detail.push(body)
    return true
  }

  /** The innermost failures (a failed test's parents fail because of it), with their details; '' if none. */
  summary(): string {
    const isParent = (f: Failure) => this.failures.some((g) => g !== f && g.path.length > f.path.length &&
      f.path.every((name, i) => g.path[i] === name))
    const leaves = this.failures.filter((f) => !isParent(f))
    if (leaves.length === 0) return ''
    const shown = leaves.slice(0, MAX_FAILURES).map((f) =>
      [`✖ ${f.path.join(' › ')}`, ...f.detail.map((d) => `    ${d}`)].join('\n'))
    const more = leaves.length > MAX_FAILURES ? [`… and ${leaves.length - MAX_FAILURES} more failures above`] : []
    return [`\nFAILED (${leaves.length}):`, ...shown, ...more].join('\n')
  }
}
