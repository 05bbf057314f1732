import { Ajv, type FuncKeywordDefinition, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'
import type { FastifyServerOptions } from 'fastify'
import { canonicalUuid } from '../chat/ids.js'

/*
 * Compiling the routes' schemas (Ajv validators, fast-json-stringify serializers) is most of
 * what building the app costs. Both are compiled on a route's first use, not when the app is
 * built: a process compiles only what it serves (a server the routes its clients call, a test
 * file a handful of the sixty), and a start does not pay for every route and status code up
 * front; a first request pays a few milliseconds instead. Route schemas are module constants,
 * so a process that builds the app again (the tests build it hundreds of times) gets the same
 * schema objects back: both compilers keep what they compiled per schema object, for the whole
 * process. A schema the compilers refuse would fail its route's first request (a 500), not the
 * start: test/plugins/docs.test.ts checks every route's schemas against JSON Schema's meta-schema.
 */

/** Marks an id field (http/schemas.ts `Id`): a uuid in it is lower-cased as it is validated. */
// an OpenAPI extension name, so that /docs/json stays a valid document
export const CANONICAL_UUID = 'x-canonical-uuid'

// compiled into the validator like `format`: one call per marked field, no walk of the request;
// an id already lower-case (nearly every request) costs one toLowerCase and a compare, no regex
const canonicalUuidKeyword: FuncKeywordDefinition = {
  keyword: CANONICAL_UUID,
  type: 'string',
  schemaType: 'boolean',
  modifying: true,
  errors: false,
  validate: (enabled: boolean, data: string, _schema, cxt) => {
    if (enabled && cxt && data.toLowerCase() !== data) cxt.parentData[cxt.parentDataProperty] = canonicalUuid(data)
    return true
  },
}

function makeAjv(coerceTypes: boolean | 'array') {
  // removeAdditional: false so that unknown body fields are rejected, not silently dropped
  const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: false, strict: false })
  addFormats.default(ajv)
  ajv.addKeyword(canonicalUuidKeyword)
  return ajv
}

let ajvs: { body: Ajv; text: Ajv } | undefined

/** Fastify's validator compiler: the validator compiles on its first call (compileNow). */
export function compileValidator({ schema, httpPart }: { schema: object; httpPart?: string }): Validate {
  let compiled: ValidateFunction | undefined
  const validate: Validate = (data) => {
    compiled ??= compileNow(schema, httpPart)
    const valid = compiled(data)
    // Fastify reads the errors from the function it was given
    validate.errors = compiled.errors
    return valid
  }
  return validate
}

/** A validator as Fastify calls it: false, then `errors` say why. */
type Validate = ((data: unknown) => boolean) & { errors?: ValidateFunction['errors'] }

/**
 * Query strings and params arrive as text and are coerced; JSON bodies are taken as typed.
 * Ajv itself returns the function it compiled before for the same schema object. A schema
 * with an `$id` gets Ajvs of its own: a second build's copy of it would clash with the first.
 */
function compileNow(schema: object, httpPart: string | undefined): ValidateFunction {
  const pair = '$id' in schema ? { body: makeAjv(false), text: makeAjv('array') } : (ajvs ??= { body: makeAjv(false), text: makeAjv('array') })
  return (httpPart === 'body' ? pair.body : pair.text).compile(schema)
}

type SerializerFactory = ReturnType<typeof SerializerSelector>
type Serializer = ReturnType<ReturnType<SerializerFactory>>

const fastifyDefaultSerializers: SerializerFactory = SerializerSelector()
const serializers = new WeakMap<object, Serializer>()

/**
 * Fastify's own serializer factory, remembering per schema object. Only when no shared
 * schemas (addSchema) or serializer options are in play, as then the schema alone decides
 * the output; otherwise every call compiles, as Fastify's does.
 */
export const buildSerializer: SerializerFactory = (externalSchemas, options) => {
  const compile = fastifyDefaultSerializers(externalSchemas, options)
  const onFirstUse = (route: Parameters<typeof compile>[0]): Serializer => {
    let compiled: Serializer | undefined
    return (data) => (compiled ??= compile(route))(data)
  }
  const shared = (externalSchemas && Object.keys(externalSchemas).length > 0) || (options && Object.keys(options).length > 0)
  if (shared) return onFirstUse
  return (route) => {
    const schema = route.schema
    if (typeof schema !== 'object' || schema === null) return onFirstUse(route)
    let serializer = serializers.get(schema)
    if (!serializer) {
      serializer = onFirstUse(route)
      serializers.set(schema, serializer)
    }
    return serializer
  }
}

export const schemaController: FastifyServerOptions['schemaController'] = {
  compilersFactory: { buildSerializer },
}
