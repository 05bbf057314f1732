import type postgres from 'postgres'

const MESSAGES_PER_SESSION = 1000

/**
 * Fills a migrated database with `count` messages (rounded up to a thousand) of about
 * `textBytes` each, in sessions of a thousand, straight in SQL: the quickest way to a big
 * database for memory checks. Returns how many and the size of their text as COPY writes it.
 */
export async function seedManyMessages(sql: postgres.Sql, count: number, textBytes: number): Promise<{ messages: number; copyBytes: number }> {
  const [site] = await sql<{ id: string }[]>`insert into sites (name, api_key, api_secret_hash) values ('Big', ${`pk_big_${Date.now()}`}, 'hash') returning id`
  const sessions = Math.ceil(count / MESSAGES_PER_SESSION)
  await sql`insert into chat_sessions (site_id, user_session_id, last_seq)
    select ${site?.id ?? ''}, 'visitor-' || g, ${MESSAGES_PER_SESSION} from generate_series(1, ${sessions}) g`
  const repeats = Math.max(1, Math.round(textBytes / 32))
  // one statement per batch of sessions keeps each transaction (and the WAL it holds) small
  const ids = (await sql<{ id: string }[]>`select id from chat_sessions where site_id = ${site?.id ?? ''} order by id`).map((r) => r.id)
  const BATCH = 50
  for (let i = 0; i < ids.length; i += BATCH) {
    const batch = ids.slice(i, i + BATCH)
    await sql`insert into chat_messages (site_id, session_id, seq, sender, text, client_message_id, created_at)
      select ${site?.id ?? ''}, s, g, case when g % 2 = 0 then 'agent' else 'visitor' end, repeat(md5(s::text || g), ${repeats}), 'c-' || g,
             now() - make_interval(secs => ${MESSAGES_PER_SESSION} - g)
      from unnest(${batch}::uuid[]) s, generate_series(1, ${MESSAGES_PER_SESSION}) g`
  }
  const [size] = await sql<{ bytes: string }[]>`select coalesce(sum(octet_length(t::text)), 0)::text as bytes from chat_messages t`
  return { messages: sessions * MESSAGES_PER_SESSION, copyBytes: Number(size?.bytes ?? 0) }
}

/** Runs `work` while sampling this process's RSS every 10 ms; returns its result and the peak growth. */
export async function peakRssGrowth<T>(work: () => Promise<T>): Promise<{ result: T; growthBytes: number; seconds: number }> {
  const before = process.memoryUsage.rss()
  let peak = before
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss())
  }, 10)
  const started = performance.now()
  try {
    const result = await work()
    peak = Math.max(peak, process.memoryUsage.rss())
    return { result, growthBytes: peak - before, seconds: (performance.now() - started) / 1000 }
  } finally {
    clearInterval(timer)
  }
}

export const MiB = 1024 * 1024
