import t from 'tap'
import { TapFailures } from '../../scripts/tap-failures.js'

// tap 21's own output (reporter "tap") for a file with a failed assertion in a nested
// subtest and a subtest that threw, then a passing file; trimmed of source excerpts
const RUN = `TAP version 14
1..2
# Subtest: test/a.test.js
    # Subtest: outer
        # Subtest: inner ok
            ok 1 - should be equal
            1..1
        ok 1 - inner ok # time=4.43ms
        
        # Subtest: inner bad
            not ok 1 - one is two
              ---
              compare: ===
              at:
                fileName: test/a.test.js
                lineNumber: 4
              diff: |
                --- expected
                +++ actual
                -2
                +1
              ...
            
            1..1
        not ok 2 - inner bad # time=21.209ms
          ---
          at:
            fileName: test/a.test.js
            lineNumber: 4
          ...
        
        1..2
    not ok 1 - outer # time=33.155ms
      ---
      at:
        fileName: test/a.test.js
        lineNumber: 2
      ...
    
    # Subtest: top bad
        not ok 1 - boom
          ---
          stack: |
            Test.<anonymous> (test/a.test.js:6:40)
          tapCaught: returnedPromiseRejection
          ...
        
        1..1
    not ok 2 - top bad # time=9.25ms
    
    1..2
not ok 1 - test/a.test.js # time=400ms

# Subtest: test/b.test.js
    ok 1 - fine
    1..1
ok 2 - test/b.test.js # time=300ms

# { total: 4, pass: 2, fail: 2 }
`

t.test('the innermost failures are listed with their path and details, however the output is chunked', async (t) => {
  for (const size of [1, 7, 64, RUN.length]) {
    const failures = new TapFailures()
    for (let i = 0; i < RUN.length; i += size) failures.push(RUN.slice(i, i + size))
    t.equal(failures.summary(), [
      '',
      'FAILED (2):',
      '✖ test/a.test.js › outer › inner bad › one is two',
      '    compare: ===',
      '    at:',
      '      fileName: test/a.test.js',
      '      lineNumber: 4',
      '    diff: |',
      '      --- expected',
      '      +++ actual',
      '      -2',
      '      +1',
      '✖ test/a.test.js › top bad › boom',
      '    stack: |',
      '      Test.<anonymous> (test/a.test.js:6:40)',
      '    tapCaught: returnedPromiseRejection',
    ].join('\n'), `chunks of ${size}`)
  }
})

t.test('a run with no failure, coloured or not, has nothing to list', async (t) => {
  const failures = new TapFailures()
  failures.push('# Subtest: test/b.test.js\n    \u001b[32mok 1 - fine\u001b[39m\n    1..1\nok 1 - test/b.test.js # time=3ms\n')
  t.equal(failures.summary(), '')
})

t.test('a coloured failure is still found, and a long detail is cut', async (t) => {
  const failures = new TapFailures()
  const detail = Array.from({ length: 100 }, (_, i) => `      line${i}: x`).join('\n')
  failures.push(`# Subtest: test/c.test.js\n    \u001b[31mnot ok 1 - red\u001b[39m\n      ---\n${detail}\n      ...\n    1..1\nnot ok 1 - test/c.test.js\n`)
  const summary = failures.summary()
  t.match(summary, /✖ test\/c\.test\.js › red\n {4}line0: x/)
  t.equal(summary.split('\n').filter((l) => l.includes('line')).length, 40)
})
