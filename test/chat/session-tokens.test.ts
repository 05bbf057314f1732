import t from 'tap'
import { sessionToken, sessionTokenMatches, sessionTokens } from '../../src/chat/session-tokens.js'

const SECRET = 'a-server-secret-of-some-length-ё'
const A = '3f1c9a52-8d0e-4b7a-9c3e-2a5b6c7d8e9f'
const B = '7a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d'

t.test('the remembering checker issues and accepts the same tokens as the plain functions', async (t) => {
  const tokens = sessionTokens(SECRET)
  t.equal(tokens.tokenFor(A), sessionToken(SECRET, A), 'the key object signs as the string secret does')
  t.ok(sessionTokenMatches(SECRET, A, tokens.tokenFor(A)))
  t.ok(tokens.matches(A, sessionToken(SECRET, A)))
})

t.test('a remembered token still opens only its own session', async (t) => {
  const tokens = sessionTokens(SECRET)
  const tokenA = tokens.tokenFor(A)
  t.ok(tokens.matches(A, tokenA), 'verified once (and remembered)')
  t.ok(tokens.matches(A, tokenA), 'remembered')
  t.notOk(tokens.matches(B, tokenA), "A's token does not open B, remembered or not")
  t.notOk(tokens.matches(A, tokenA.slice(0, -1) + (tokenA.endsWith('A') ? 'B' : 'A')), 'a token one character off')
  t.notOk(tokens.matches(A, ''), 'empty')
  t.ok(tokens.matches(B, tokens.tokenFor(B)), "B's own token")
  t.notOk(sessionTokens('another-secret').matches(A, tokenA), 'a token of another secret')
})
