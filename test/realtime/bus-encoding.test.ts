import t from 'tap'
import { encodeCarrying, encodeEvent, MAX_CARRIED_BYTES, Subscribers, type BusEvent } from '../../src/realtime/bus.js'
import type { Message } from '../../src/chat/message-row.js'

const SITE = '00000000-0000-4000-8000-000000000001'
const SESSION = '00000000-0000-4000-8000-000000000002'
const message = (text: string): Message => ({
  id: '00000000-0000-4000-8000-000000000003', sessionId: SESSION, seq: 7, sender: 'agent', senderName: 'Olena', text,
  clientMessageId: null, attachments: [{ id: '00000000-0000-4000-8000-000000000004', name: 'a.pdf', contentType: 'application/pdf', size: 3 }],
  createdAt: new Date('2026-12-01T02:00:00.123Z'),
})
const ids: BusEvent = { k: 'message', site: SITE, session: SESSION, seq: 7 }

/** What one subscriber is told for a payload. */
function received(payload: string): BusEvent[] {
  const events: BusEvent[] = []
  const subscribers = new Subscribers({ error: () => {} })
  subscribers.add({ onEvent: (e) => void events.push(e), onReconnect: () => {} })
  subscribers.deliver(payload)
  return events
}

t.test('the Postgres encoding sends a message event with ids only', async (t) => {
  t.same(received(encodeEvent({ ...ids, message: message('hello') })), [ids])
})

t.test('a carrying bus sends the message along, and it arrives as it was sent', async (t) => {
  const event: BusEvent = { ...ids, message: message('hello') }
  t.same(received(encodeCarrying(event)), [event], 'createdAt is a Date again')
})

t.test('a message too large to carry goes with ids only (receivers read it)', async (t) => {
  const big = message('"'.repeat(MAX_CARRIED_BYTES / 2))
  t.same(received(encodeCarrying({ ...ids, message: big })), [ids])
})

t.test('a carried message that does not match its event is dropped, and the event kept', async (t) => {
  const other = { ...message('hello'), seq: 8 }
  t.same(received(JSON.stringify({ ...ids, message: other })), [ids])
  t.same(received(JSON.stringify({ ...ids, message: { ...message('hello'), createdAt: 'not a time' } })), [ids])
})

t.test("a message's `outbox: false` (nothing queued for the workers) survives both encodings", async (t) => {
  const quiet: BusEvent = { ...ids, outbox: false }
  t.same(received(encodeEvent({ ...quiet, message: message('hello') })), [quiet], 'Postgres: ids and the mark')
  t.same(received(encodeCarrying({ ...quiet, message: message('hello') })), [{ ...quiet, message: message('hello') }], 'carried')
})
