/** A JSON call over real HTTP; a network error is status 0. */
export async function call(
  base: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: unknown } = {},
): Promise<{ status: number; body: Record<string, unknown> & { data?: Record<string, unknown>; error?: { code: string } } }> {
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }), ...opts.headers },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: AbortSignal.timeout(10_000),
    })
    const text = await res.text()
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }
  } catch {
    return { status: 0, body: {} }
  }
}

/** Retries a call like a widget does (network errors and 5xx, a short pause apart) until it is answered or the time is up. */
export async function callUntilAnswered(base: string, method: string, path: string, opts: Parameters<typeof call>[3], timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const res = await call(base, method, path, opts)
    if ((res.status > 0 && res.status < 500) || Date.now() > deadline) return res
    await new Promise((r) => setTimeout(r, 100))
  }
}
