import postgres from 'postgres'
import { reconnectDelaySeconds } from '../db/client.js'
import { EVENTS_CHANNEL, parseEvents, type ChatEvent } from '../chat/events.js'

export const LISTENER_APP_NAME = 'livechat-listener'

// between attempts to LISTEN again while the database is away
const RELISTEN_PAUSE_MS = 250

export type ListenerHandlers = {
  onEvent: (event: ChatEvent) => void
  /** the LISTEN is back after a drop: whatever was notified meanwhile is lost, re-read the tables */
  onReconnect: () => void
}

export type Listener = { close: () => Promise<void> }

/**
 * One dedicated LISTEN connection per process, whatever the number of sockets: a client of
 * its own with one connection that never idles out. Not postgres.js's `sql.listen`: that
 * one re-LISTENs once when its connection closes and, if the database is still away,
 * swallows the failure and never listens again; with its default back-off, re-LISTEN also
 * came ~12 s after a 15 s outage (see RECIPES.md). Here every close starts attempts that
 * go on, a short back-off apart, until LISTEN succeeds.
 */
export async function startListener(databaseUrl: string, handlers: ListenerHandlers): Promise<Listener> {
  let closing = false
  let listens = 0
  let attempts: Promise<void> | undefined
  // onnotify is an option postgres.js reads (its own listen() uses it) but does not declare
  const options: postgres.Options<Record<string, never>> & { onnotify: (channel: string, payload: string) => void } = {
    max: 1,
    idle_timeout: 0,
    max_lifetime: 0,
    fetch_types: false,
    backoff: reconnectDelaySeconds,
    connect_timeout: 3,
    onnotice: () => {},
    connection: { application_name: LISTENER_APP_NAME },
    onnotify: (channel, payload) => {
      if (channel === EVENTS_CHANNEL) for (const event of parseEvents(payload)) handlers.onEvent(event)
    },
    // also called for each failed attempt to connect; one loop of attempts at a time
    onclose: () => {
      if (!closing) attempts ??= listenUntilListening().finally(() => (attempts = undefined))
    },
  }
  const sql = postgres(databaseUrl, options)

  async function listenUntilListening(): Promise<void> {
    while (!closing) {
      try {
        await sql.unsafe(`listen ${EVENTS_CHANNEL}`)
        if (listens++ > 0) handlers.onReconnect()
        return
      } catch {
        await new Promise((r) => setTimeout(r, RELISTEN_PAUSE_MS))
      }
    }
  }

  try {
    await sql.unsafe(`listen ${EVENTS_CHANNEL}`)
    listens++
  } catch (err) {
    closing = true
    await sql.end({ timeout: 0 })
    throw err
  }
  return {
    close: async () => {
      closing = true
      await sql.end({ timeout: 1 })
      await attempts
    },
  }
}
