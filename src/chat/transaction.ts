import type { Executor, Tx } from '../db/client.js'
import type { BusEvent, Publisher } from '../realtime/bus.js'

/**
 * Runs `work` in a transaction (a savepoint inside another one) and holds the events it
 * publishes until the commit: a subscriber re-reading the rows then finds them, and a
 * rollback announces nothing. Nested, the events join the outer transaction's.
 */
export async function transaction<T>(db: Executor, events: Publisher, work: (tx: Tx, events: Publisher) => Promise<T>): Promise<T> {
  const held: BusEvent[] = []
  const result = await db.transaction((tx) => work(tx, { publish: (event) => void held.push(event) }))
  for (const event of held) events.publish(event)
  return result
}
