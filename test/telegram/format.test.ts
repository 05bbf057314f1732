import { test } from 'tap'
import { formatMessage } from '../../src/telegram/format.js'

const sessionId = '11111111-2222-3333-4444-555555555555'

test('a message card sets the visitor\'s text apart in a quote block, and has none without text', async (t) => {
  const card = formatMessage({ sessionId, text: '📞 +1 555 0100' }, 'https://chat.example')
  t.match(card, /<blockquote>📞 \+1 555 0100<\/blockquote>/)
  // a message whose files were erased before delivery has no text left to quote
  t.notMatch(formatMessage({ sessionId, text: '' }, 'https://chat.example'), /blockquote/)
})
