import { connect, Events, type NatsConnection, type Subscription } from 'nats'
import { ConfigError, withoutCredentials } from '../config/env.js'
import { encodeCarrying, Subscribers, type BusEvent, type BusSubscriber, type RealtimeBus } from './bus.js'

export const EVENTS_SUBJECT = 'livechat.events'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

// How long close() lets pending publishes drain before it gives up on a server that is away.
const DRAIN_TIMEOUT_MS = 2_000

/**
 * The bus on core NATS (no JetStream): every event is one message on `livechat.events`, and
 * each process holds one subscription. No event touches Postgres, so the database's single
 * NOTIFY queue and its commit-time lock stop being the limit on how many events the
 * instances exchange; the database is still the truth (subscribers re-read rows, and the
 * hub's sweep catches sockets up from Postgres when an event is lost). A new message travels
 * with its event (encodeCarrying), so an instance with its session's sockets sends it
 * without a read: the cross-instance push costs one NATS hop, not a hop plus a query. This
 * bus's own subscribers get its events at publish and skip their echo (bus.ts).
 *
 * Core NATS is at most once, like NOTIFY: a process that is disconnected misses what was
 * published meanwhile. The client reconnects by itself (forever, 250 ms apart) and then
 * every subscriber is told to re-read (`onReconnect`). Publishes made while disconnected
 * wait in the client's reconnect buffer and go out on reconnect. NATS delivers a
 * connection's messages in the order it published them, the publisher's own subscription
 * included.
 */
export class NatsBus implements RealtimeBus {
  private readonly subscribers: Subscribers
  private subscription: Subscription | undefined

  private constructor(private readonly nc: NatsConnection, private readonly log: { error: (obj: object, msg: string) => void }) {
    this.subscribers = new Subscribers(log)
    void this.watchStatus()
  }

  /** Connects first (a NATS that cannot be reached at start is a start-up error, like the database). */
  static async connect(opts: { servers: string[]; name: string; log: { error: (obj: object, msg: string) => void } }): Promise<NatsBus> {
    let nc: NatsConnection
    try {
      nc = await connect({
        servers: opts.servers,
        name: opts.name,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        reconnectJitter: 100,
        timeout: 3_000,
        // a dead server is noticed within ~20 s even when no TCP reset arrives
        pingInterval: 10_000,
        maxPingOut: 2,
        // this bus's own events reach its subscribers at publish; the server need not send them back
        noEcho: true,
      })
    } catch (err) {
      // a setting to fix, not a fault: the start stops with this sentence, without a stack
      throw new ConfigError(`cannot reach NATS at ${opts.servers.map(withoutCredentials).join(', ')} (NATS_URL): ${(err as Error).message}`, { cause: err })
    }
    return new NatsBus(nc, opts.log)
  }

  publish(event: BusEvent): void {
    const payload = encoder.encode(this.subscribers.payload([encodeCarrying(event)]))
    this.subscribers.deliverLocally(event)
    try {
      this.nc.publish(EVENTS_SUBJECT, payload)
    } catch (err) {
      // closed (the app is shutting down) or draining: the event is lost, as the contract allows
      this.log.error({ err }, 'a realtime event could not be published on NATS')
    }
  }

  async subscribe(subscriber: BusSubscriber): Promise<() => void> {
    this.subscription ??= this.nc.subscribe(EVENTS_SUBJECT, {
      callback: (err, msg) => {
        if (err) return
        this.subscribers.deliver(decoder.decode(msg.data))
      },
    })
    const unsubscribe = this.subscribers.add(subscriber)
    // the server has the subscription once it answered the flush's ping
    await this.nc.flush()
    return unsubscribe
  }

  async close(): Promise<void> {
    this.subscribers.clear()
    if (this.nc.isClosed()) return
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, DRAIN_TIMEOUT_MS) })
    // drain: what is published goes out, then the subscription and the connection close
    await Promise.race([this.nc.drain().catch(() => undefined), timeout])
    clearTimeout(timer)
    if (!this.nc.isClosed()) await this.nc.close()
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === Events.Reconnect) this.subscribers.tell((s) => s.onReconnect())
    }
  }
}
