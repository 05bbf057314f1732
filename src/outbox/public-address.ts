import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns'
import { BlockList, isIP } from 'node:net'

/**
 * Where outgoing webhooks may go: public internet addresses only. Loopback, private,
 * carrier-grade NAT, link-local (which holds the cloud metadata service, 169.254.169.254),
 * unique-local, multicast, documentation and reserved ranges are refused, so that an admin
 * cannot make the server call its own network (SSRF) or use the delivery log to scan it.
 */
const NON_PUBLIC = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) NON_PUBLIC.addSubnet(net, prefix, 'ipv4')
for (const [net, prefix] of [
  ['::', 96], ['100::', 64], ['64:ff9b:1::', 48], ['2001::', 23], ['2001:db8::', 32],
  ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) NON_PUBLIC.addSubnet(net, prefix, 'ipv6')

/** The eight 16-bit words of an IPv6 address (a trailing dotted quad allowed), or undefined. */
function ipv6Words(address: string): number[] | undefined {
  let text = address.split('%')[0] ?? ''
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number]
    text = text.slice(0, quad.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const part = (s: string | undefined) => (s ? s.split(':').map((w) => parseInt(w, 16)) : [])
  const left = part(head)
  const right = part(tail)
  const words = tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right]
  return words.length === 8 && words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff) ? words : undefined
}

const v4Of = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`

/** The IPv4 address an IPv6 one carries and reaches (mapped, SIIT-translated, NAT64, 6to4), if any. */
function embeddedV4(words: number[]): string | undefined {
  const [w0, w1, w2, w3, w4, w5, w6 = 0, w7 = 0] = words
  if (w0 === 0 && w1 === 0 && w2 === 0 && w3 === 0 && w4 === 0 && w5 === 0xffff) return v4Of(w6, w7)
  // ::ffff:0:a.b.c.d, what a SIIT translator (RFC 7915) turns into a.b.c.d
  if (w0 === 0 && w1 === 0 && w2 === 0 && w3 === 0 && w4 === 0xffff && w5 === 0) return v4Of(w6, w7)
  if (w0 === 0x64 && w1 === 0xff9b && w2 === 0 && w3 === 0 && w4 === 0 && w5 === 0) return v4Of(w6, w7)
  if (w0 === 0x2002) return v4Of(w1 ?? 0, w2 ?? 0)
  return undefined
}

export function isPublicAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 4) return !NON_PUBLIC.check(address, 'ipv4')
  if (family !== 6) return false
  const words = ipv6Words(address)
  if (!words) return false
  const v4 = embeddedV4(words)
  if (v4 !== undefined) return isPublicAddress(v4)
  return !NON_PUBLIC.check(address, 'ipv6')
}

/** Why a host may not be called, or undefined when it may: every address it resolves to must be public. */
export async function nonPublicReason(hostname: string): Promise<string | undefined> {
  const host = hostname.replace(/^\[|\]$/g, '')
  if (isIP(host)) return isPublicAddress(host) ? undefined : `${host} is not a public address`
  let addresses: LookupAddress[]
  try {
    addresses = await resolveAll(host)
  } catch {
    return `${host} does not resolve`
  }
  const inside = addresses.find((a) => !isPublicAddress(a.address))
  return inside ? `${host} resolves to ${inside.address}, which is not a public address` : undefined
}

function resolveAll(host: string): Promise<LookupAddress[]> {
  const options: LookupAllOptions = { all: true, verbatim: true }
  return new Promise((resolve, reject) => dnsLookup(host, options, (err, addresses) => (err ? reject(err) : resolve(addresses))))
}

export class NonPublicAddress extends Error {}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/**
 * A `lookup` for http.request that resolves the host itself, refuses it when any address is
 * not public, and hands the connection the address it checked: the request goes where the
 * check looked (no second resolution an attacker's DNS could answer differently).
 */
export function publicOnlyLookup(hostname: string, options: { all?: boolean }, callback: LookupCallback): void {
  resolveAll(hostname).then((addresses) => {
    const inside = addresses.find((a) => !isPublicAddress(a.address))
    const first = addresses[0]
    if (inside || !first) return callback(new NonPublicAddress(`${hostname} resolves to a non-public address`), '')
    if (options.all) return callback(null, [first])
    return callback(null, first.address, first.family)
  }, (err: NodeJS.ErrnoException) => callback(err, ''))
}
