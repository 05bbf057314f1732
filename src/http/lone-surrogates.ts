/*
 * Strings a JSON body can carry but Postgres text cannot store as sent. A lone UTF-16
 * surrogate has no UTF-8 form: Postgres would store it as U+FFFD, so a name, a note or an id
 * would not come back as sent (and two different ids would be one). A NUL (U+0000) cannot be
 * stored at all. Bodies are refused whole when one of their strings holds either, wherever it
 * is, naming that field; so are socket frames for a lone surrogate (a NUL in a frame's text
 * is refused where every message text is checked, chat/messages.ts). Text decoded from UTF-8 never holds a lone surrogate
 * (malformed bytes become U+FFFD), and JSON holds no raw control characters, so only a
 * `\uD800`-`\uDFFF` or `\u0000` escape can bring one in; most JSON has none (JSON.stringify
 * writes emoji as they are), and only JSON that has one is walked.
 */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/
const LONE_SURROGATE = /\p{Cs}/u

/** Where in `value` a string or key is `bad` (`comment`, `attachments.0`), if anywhere. */
function stringAt(value: unknown, bad: (s: string) => boolean): string | undefined {
  // a stack, not recursion: 64 KiB of `[` nests deeper than the call stack goes
  const pending: [unknown, string][] = [[value, '']]
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [v, path] = next
    if (typeof v === 'string') {
      if (bad(v)) return path || 'body'
    } else if (typeof v === 'object' && v !== null) {
      for (const [key, inner] of Object.entries(v)) {
        const at = path ? `${path}.${key}` : key
        if (bad(key)) return at
        pending.push([inner, at])
      }
    }
  }
  return undefined
}

/** Where the parsed JSON `value` of `text` holds a lone surrogate, if anywhere. */
export function loneSurrogateAt(text: string, value: unknown): string | undefined {
  // the substring search first: a third of the regex's cost on a body without escapes
  if (!text.includes('\\u') || !SURROGATE_ESCAPE.test(text)) return undefined
  return stringAt(value, (s) => LONE_SURROGATE.test(s))
}

/** Where the parsed JSON `value` of `text` holds a NUL character, if anywhere. */
export const nulAt = (text: string, value: unknown): string | undefined =>
  text.includes('\\u0000') ? stringAt(value, (s) => s.includes('\u0000')) : undefined
