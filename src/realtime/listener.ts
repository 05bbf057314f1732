import postgres from 'postgres'
import { EVENTS_CHANNEL, parseEvents, type ChatEvent } from '../chat/events.js'

export const LISTENER_APP_NAME = 'livechat-listener'

export type ListenerHandlers = {
  onEvent: (event: ChatEvent) => void
  /** the LISTEN is back after a drop: whatever was notified meanwhile is lost, re-read the tables */
  onReconnect: () => void
}

export type Listener = { close: () => Promise<void> }

/**
 * One dedicated LISTEN connection per process, whatever the number of sockets. It is its
 * own postgres.js client (not the pool's `sql.listen`) so that it can reconnect with a
 * short back-off: with the default one, re-LISTEN came ~12 s after a 15 s outage, and
 * every notification in that window is gone (see RECIPES.md).
 */
export async function startListener(databaseUrl: string, handlers: ListenerHandlers): Promise<Listener> {
  const sql = postgres(databaseUrl, {
    max: 1,
    backoff: (attempt) => Math.min(0.1 * 2 ** attempt, 2),
    connect_timeout: 3,
    onnotice: () => {},
    connection: { application_name: LISTENER_APP_NAME },
  })
  let listens = 0
  try {
    await sql.listen(EVENTS_CHANNEL, (payload) => {
      for (const event of parseEvents(payload)) handlers.onEvent(event)
    }, () => {
      // postgres.js calls this after the first LISTEN and after every reconnect
      if (listens++ > 0) handlers.onReconnect()
    })
  } catch (err) {
    await sql.end({ timeout: 0 })
    throw err
  }
  return { close: () => sql.end({ timeout: 1 }) }
}
