import t from 'tap'
import type { BusEvent, Publisher } from '../../src/realtime/bus.js'
import { Presence } from '../../src/realtime/presence.js'

const HEARTBEAT_MS = 1_000_000 // the tests beat by hand (through presence-sync), never by the timer
const TTL_MS = 15_000

/** Instances on one in-memory bus with one clock; a silenced one reaches nobody (it died), a deaf one hears nothing (not started yet). */
function cluster(names: string[]) {
  let now = 1_000
  const silenced = new Set<string>()
  const deaf = new Set<string>()
  const changes: string[] = []
  const instances = new Map<string, Presence>()
  for (const name of names) {
    const publisher: Publisher = {
      publish: (event: BusEvent) => {
        if (silenced.has(name)) return
        for (const [otherName, other] of instances) if (!deaf.has(otherName)) other.handle(event)
      },
    }
    instances.set(name, new Presence({
      instance: name, publisher, heartbeatMs: HEARTBEAT_MS, ttlMs: TTL_MS, now: () => now,
      onChange: (user, online) => changes.push(`${name}:${user}:${online ? 'online' : 'offline'}`),
    }))
  }
  const get = (name: string) => {
    const p = instances.get(name)
    if (!p) throw new Error(name)
    return p
  }
  return {
    get, changes,
    advance: (ms: number) => (now += ms),
    silence: (name: string) => silenced.add(name),
    deafen: (name: string, on: boolean) => (on ? deaf.add(name) : deaf.delete(name)),
    close: () => { for (const p of instances.values()) p.close() },
  }
}

t.test('a user with a socket on A is online on B; away and the last close take them offline everywhere', async (t) => {
  const c = cluster(['a', 'b'])
  t.teardown(c.close)
  c.get('a').connected('u1', 'online')
  t.ok(c.get('b').isOnline('u1'))
  c.get('a').connected('u1', 'online')
  c.get('a').disconnected('u1')
  t.ok(c.get('b').isOnline('u1'), 'one of two sockets closed: still online')
  c.get('a').setAvailability('u1', 'away')
  t.notOk(c.get('b').isOnline('u1'), 'away')
  t.notOk(c.get('a').isOnline('u1'))
  c.get('a').setAvailability('u1', 'online')
  t.ok(c.get('b').isOnline('u1'))
  c.get('a').disconnected('u1')
  t.notOk(c.get('b').isOnline('u1'), 'the last socket closed')
  t.same(c.get('b').onlineUserIds(), [])
  t.same(c.changes.filter((x) => x.startsWith('b:')), ['b:u1:online', 'b:u1:offline', 'b:u1:online', 'b:u1:offline'])
})

t.test('sockets on two instances: online until both are gone', async (t) => {
  const c = cluster(['a', 'b', 'c'])
  t.teardown(c.close)
  c.get('a').connected('u1', 'online')
  c.get('b').connected('u1', 'online')
  c.get('a').disconnected('u1')
  t.ok(c.get('c').isOnline('u1'))
  c.get('b').disconnected('u1')
  t.notOk(c.get('c').isOnline('u1'))
})

t.test('an instance that dies stops repeating itself: its users expire on the others within the ttl', async (t) => {
  const c = cluster(['a', 'b'])
  t.teardown(c.close)
  c.get('a').connected('u1', 'online')
  c.silence('a')
  c.advance(TTL_MS - 1)
  t.ok(c.get('b').isOnline('u1'), 'still within the ttl')
  c.advance(2)
  t.notOk(c.get('b').isOnline('u1'), 'expired')
  t.same(c.changes.filter((x) => x.startsWith('b:')), ['b:u1:online'], 'an expiry is noticed when it is looked at, or at the next beat')
})

t.test('repeated words keep a user online past the ttl; an instance that starts late learns who is online by asking', async (t) => {
  const c = cluster(['a', 'b', 'late'])
  t.teardown(c.close)
  c.deafen('late', true)
  c.get('a').connected('u1', 'online')
  for (let i = 0; i < 5; i++) {
    c.advance(TTL_MS / 2)
    c.get('b').requestSync()
  }
  t.ok(c.get('b').isOnline('u1'), 'five ttl halves later')
  t.notOk(c.get('late').isOnline('u1'), 'the late instance heard nothing yet')
  c.deafen('late', false)
  c.get('late').requestSync()
  t.ok(c.get('late').isOnline('u1'), 'the others repeated themselves when asked')
})

t.test('an echo of an older word from the same instance never undoes a newer one', async (t) => {
  const c = cluster(['a'])
  t.teardown(c.close)
  const a = c.get('a')
  a.connected('u1', 'online')
  a.disconnected('u1')
  a.handle({ k: 'presence', user: 'u1', status: 'online', instance: 'a', ttlMs: TTL_MS })
  t.notOk(a.isOnline('u1'))
})

t.test('an orderly close tells the others at once', async (t) => {
  const c = cluster(['a', 'b'])
  t.teardown(c.close)
  c.get('a').connected('u1', 'online')
  c.get('a').close()
  t.notOk(c.get('b').isOnline('u1'))
})
