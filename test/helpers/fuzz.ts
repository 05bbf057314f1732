import fc, { type Arbitrary } from 'fast-check'

/** A JSON Schema as the OpenAPI description carries it (the parts the generators read). */
export type Schema = {
  type?: string | string[]
  properties?: Record<string, Schema>
  required?: string[]
  items?: Schema | Schema[]
  enum?: unknown[]
  const?: unknown
  anyOf?: Schema[]
  oneOf?: Schema[]
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  format?: string
  pattern?: string
  additionalProperties?: boolean | Schema
}

/** Strings that have broken servers before: encodings, injections, limits, look-alikes of valid values. */
const NASTY_STRINGS = [
  '', ' ', '\t\n', '\u0000', 'a\u0000b', '\ud800', '\udfff', '😀', '‮', '\ufeff', 'ё', 'null', 'undefined', 'NaN', '-1', '0', '1e400',
  'true', '[]', '{}', '<script>alert(1)</script>', "' or 1=1 --", '"; drop table users; --', '../../etc/passwd', '%00', '%E0%A4%A',
  '${jndi:ldap://x}', '__proto__', 'constructor', '00000000-0000-0000-0000-000000000000', '2026-02-30T10:00:00Z', '275760-09-13',
  '-271821-04-20T00:00:00Z', '9999-12-31T23:59:59.999Z', '1970-01-01', 'x'.repeat(129), 'x'.repeat(4001), 'x'.repeat(70_000),
  'https://169.254.169.254/', 'http://127.0.0.1:1/', 'javascript:alert(1)', 'ä@exämple.com', 'a@b', '@', '*', 'https://shop.example',
]

const NASTY_NUMBERS = [0, -1, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 53 - 1, 2 ** 53 + 2, -(2 ** 63), 1e308, 0.5, -0]

export const nastyString = fc.constantFrom(...NASTY_STRINGS)

const anyJson: Arbitrary<unknown> = fc.oneof(
  { depthSize: 'small' },
  fc.jsonValue({ maxDepth: 3 }),
  nastyString,
  fc.constantFrom(...NASTY_NUMBERS),
  fc.constant(null),
)

function stringFor(s: Schema): Arbitrary<string> {
  const options: Arbitrary<string>[] = [fc.string({ maxLength: Math.min(s.maxLength ?? 60, 200) }), fc.string({ unit: 'binary', maxLength: 40 }), nastyString]
  if (s.format === 'uuid') options.push(fc.uuid())
  if (s.format === 'email') options.push(fc.emailAddress())
  if (s.format === 'date-time') options.push(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()))
  if (s.maxLength !== undefined) options.push(fc.constant('y'.repeat(s.maxLength)), fc.constant('y'.repeat(s.maxLength + 1)))
  return fc.oneof(...options)
}

/** Values for a schema: mostly the right type (inside and just outside its bounds), sometimes anything at all. */
export function valueFor(schema: Schema | undefined, depth = 0): Arbitrary<unknown> {
  if (!schema || depth > 3) return anyJson
  const branches = schema.anyOf ?? schema.oneOf
  if (branches) return fc.oneof(...branches.map((b) => valueFor(b, depth + 1)), anyJson)
  if (schema.enum) return fc.oneof(fc.constantFrom(...schema.enum), anyJson)
  if (schema.const !== undefined) return fc.oneof(fc.constant(schema.const), anyJson)
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type
  const typed: Arbitrary<unknown> = (() => {
    switch (type) {
      case 'string':
        return stringFor(schema)
      case 'integer':
      case 'number': {
        const bounds = [schema.minimum, schema.maximum].filter((n): n is number => n !== undefined).flatMap((n) => [n, n - 1, n + 1])
        return fc.oneof(fc.integer(), fc.constantFrom(...NASTY_NUMBERS, ...bounds), fc.double({ noNaN: true }))
      }
      case 'boolean':
        return fc.boolean()
      case 'array': {
        const item = Array.isArray(schema.items) ? schema.items[0] : schema.items
        return fc.array(valueFor(item, depth + 1), { maxLength: 6 })
      }
      case 'object':
        return objectFor(schema, depth)
      case 'null':
        return fc.constant(null)
      default:
        return anyJson
    }
  })()
  return fc.oneof({ weight: 5, arbitrary: typed }, { weight: 1, arbitrary: anyJson })
}

/** An object with any subset of the schema's properties (and now and then one it does not know). */
export function objectFor(schema: Schema, depth = 0): Arbitrary<Record<string, unknown>> {
  const props = Object.entries(schema.properties ?? {})
  const known = props.length === 0
    ? fc.constant({})
    : fc.record(Object.fromEntries(props.map(([k, v]) => [k, valueFor(v, depth + 1)])), { requiredKeys: [] })
  return fc.tuple(known, fc.option(fc.tuple(fc.constantFrom('extra', '__proto__', 'constructor', 'type'), anyJson), { freq: 6 }))
    .map(([obj, extra]) => (extra ? { ...obj, [extra[0]]: extra[1] } : obj))
}
