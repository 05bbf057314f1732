import type { Sql } from 'postgres'

/**
 * The barest correct way to store a message: claim the session's next seq under its row lock
 * and insert, in one statement (the product's send does the same and also writes its outbox
 * rows). The baselines use it (serve-baseline's route, send's raw loop), and so do benches
 * that add messages while they measure. Stores nothing in a closed or unknown session.
 * With a clientMessageId (the widget sends one with every message, for safe retries) it is
 * stored too, so the same unique index (chat_messages_client_id_uq) is checked as in the product.
 */
export const storeMessage = (sql: Sql, sessionId: string, sender: 'visitor' | 'agent', text: string, clientMessageId: string | null = null) => sql<{ id: string; sessionId: string; seq: number; sender: string; text: string; createdAt: Date }[]>`
  with claimed as (
    update chat_sessions set last_seq = last_seq + 1,
      last_message_at = greatest(date_trunc('milliseconds', statement_timestamp()), last_message_at + interval '1 millisecond')
    where id = ${sessionId} and status = 'open' returning id, site_id, last_seq, last_message_at)
  insert into chat_messages (site_id, session_id, seq, sender, text, client_message_id, created_at)
  select site_id, id, last_seq, ${sender}, ${text}, ${clientMessageId}::text, last_message_at from claimed
  returning id, session_id as "sessionId", seq, sender, text, created_at as "createdAt"`
