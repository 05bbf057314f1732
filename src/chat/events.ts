import { sql } from 'drizzle-orm'
import type { Executor } from '../db/client.js'

export const EVENTS_CHANNEL = 'chat_events'

/**
 * What a NOTIFY on chat_events carries: ids only, never message text (payloads are capped
 * at 8000 bytes). Listeners re-read the rows.
 */
export type ChatEvent =
  | { k: 'message'; site: string; session: string; seq: number }
  | { k: 'session'; site: string; session: string; created?: boolean }
  | { k: 'site'; site: string }
  | { k: 'user'; user: string }

/** Queues a notification that Postgres delivers at commit (and drops on rollback). */
export async function notify(db: Executor, event: ChatEvent): Promise<void> {
  await db.execute(sql`select pg_notify(${EVENTS_CHANNEL}, ${JSON.stringify(event)})`)
}

export function parseEvent(payload: string): ChatEvent | undefined {
  try {
    const e = JSON.parse(payload) as ChatEvent
    return typeof e === 'object' && e !== null && typeof e.k === 'string' ? e : undefined
  } catch {
    return undefined
  }
}
