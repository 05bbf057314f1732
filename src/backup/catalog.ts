import type postgres from 'postgres'
import { BackupError } from './errors.js'

type Queryable = postgres.Sql | postgres.TransactionSql

export type TableName = { schema: string; name: string }
export type TableInfo = TableName & { columns: string[] }
/** A sequence's state; `last` is null when it was never used (nextval gives its start). */
export type SequenceState = TableName & { last: string | null }

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`
export const qualified = (t: TableName) => `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`
export const displayName = (t: TableName) => (t.schema === 'public' ? t.name : `${t.schema}.${t.name}`)

// What the product's migrations create: every schema but Postgres's own and drizzle's bookkeeping.
const NOT_OURS = `('pg_catalog', 'information_schema', 'pg_toast', 'drizzle')`
const userSchema = (ns: string) => `${ns}.nspname not in ${NOT_OURS} and ${ns}.nspname not like 'pg\\_temp\\_%' and ${ns}.nspname not like 'pg\\_toast\\_temp\\_%'`
const notFromExtension = (catalog: string, oid: string) =>
  `not exists (select 1 from pg_depend d where d.classid = '${catalog}'::regclass and d.objid = ${oid} and d.deptype = 'e')`

/**
 * Every table the migrations made, found in the catalog (so a table added tomorrow is in
 * tomorrow's backups with no change here), parents before children: restoring them in
 * this order satisfies every foreign key. Generated columns are left out (Postgres
 * computes them again).
 */
export async function listTables(sql: Queryable): Promise<TableInfo[]> {
  const tables = await sql.unsafe<{ oid: string; schema: string; name: string; columns: string[] }[]>(`
    select c.oid::int8::text as oid, n.nspname::text as schema, c.relname::text as name,
      array(select a.attname::text from pg_attribute a
            where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
            order by a.attnum) as columns
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p') and not c.relispartition and ${userSchema('n')} and ${notFromExtension('pg_class', 'c.oid')}
    order by n.nspname, c.relname`)
  const references = await sql<{ child: string; parent: string }[]>`
    select conrelid::int8::text as child, confrelid::int8::text as parent from pg_constraint where contype = 'f' and conrelid <> confrelid`
  return parentsFirst(tables, references)
}

function parentsFirst<T extends TableName & { oid: string }>(tables: T[], references: { child: string; parent: string }[]): (TableName & Omit<T, 'oid'>)[] {
  const byOid = new Map(tables.map((t) => [t.oid, t]))
  const parents = new Map(tables.map((t) => [t.oid, new Set<string>()]))
  for (const r of references) if (byOid.has(r.child) && byOid.has(r.parent)) parents.get(r.child)?.add(r.parent)
  const ordered: T[] = []
  const placed = new Set<string>()
  while (ordered.length < tables.length) {
    // tables come sorted by name, so the order is the same on every run
    const next = tables.find((t) => !placed.has(t.oid) && [...(parents.get(t.oid) ?? [])].every((p) => placed.has(p)))
    if (!next) {
      const stuck = tables.filter((t) => !placed.has(t.oid)).map(displayName).join(', ')
      throw new BackupError(`these tables reference each other in a cycle, so no restore order satisfies their foreign keys: ${stuck}`)
    }
    ordered.push(next)
    placed.add(next.oid)
  }
  return ordered.map(({ oid: _oid, ...table }) => table)
}

/** The sequences of the product's schemas (bigserial ids), so that restored ids continue. */
export async function listSequences(sql: Queryable): Promise<SequenceState[]> {
  return sql.unsafe<SequenceState[]>(`
    select s.schemaname::text as schema, s.sequencename::text as name, s.last_value::text as last
    from pg_sequences s join pg_namespace n on n.nspname = s.schemaname
    where ${userSchema('n')} order by 1, 2`)
}

/** Whether any of the product's tables holds a row. */
export async function holdsData(sql: Queryable): Promise<boolean> {
  for (const table of await listTables(sql)) {
    const [row] = await sql.unsafe<{ any: boolean }[]>(`select exists (select 1 from ${qualified(table)}) as any`)
    if (row?.any) return true
  }
  return false
}

/**
 * Drops everything the migrations made (tables, views, sequences, types, functions, their
 * own schemas and drizzle's bookkeeping), so that they can run again from the start.
 * Extensions and their objects stay.
 */
export async function dropProductSchema(tx: postgres.TransactionSql): Promise<void> {
  const [me] = await tx<{ oid: string }[]>`select oid::int8::text as oid from pg_roles where rolname = current_user`
  const schemas = await tx.unsafe<{ name: string }[]>(`
    select n.nspname::text as name from pg_namespace n
    where ${userSchema('n')} and n.nspname <> 'public' and n.nspowner = ${Number(me?.oid ?? 0)} and ${notFromExtension('pg_namespace', 'n.oid')}`)
  for (const s of schemas) await tx.unsafe(`drop schema if exists ${quoteIdent(s.name)} cascade`)
  await tx`drop schema if exists drizzle cascade`
  const inPublic = `n.nspname = 'public'`
  const relations = await tx.unsafe<{ name: string; kind: string }[]>(`
    select c.relname::text as name, c.relkind::text as kind from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where ${inPublic} and c.relkind in ('v', 'm', 'r', 'p', 'S', 'f') and ${notFromExtension('pg_class', 'c.oid')}
    order by case c.relkind when 'v' then 0 when 'm' then 1 else 2 end`)
  const dropKind: Record<string, string> = { v: 'view', m: 'materialized view', r: 'table', p: 'table', S: 'sequence', f: 'foreign table' }
  for (const r of relations) await tx.unsafe(`drop ${dropKind[r.kind] ?? 'table'} if exists public.${quoteIdent(r.name)} cascade`)
  const routines = await tx.unsafe<{ signature: string }[]>(`
    select p.oid::regprocedure::text as signature from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where ${inPublic} and p.prokind in ('f', 'p') and ${notFromExtension('pg_proc', 'p.oid')}`)
  for (const r of routines) await tx.unsafe(`drop routine if exists ${r.signature} cascade`)
  const types = await tx.unsafe<{ name: string }[]>(`
    select t.typname::text as name from pg_type t join pg_namespace n on n.oid = t.typnamespace
    where ${inPublic} and (t.typtype in ('e', 'd', 'r', 'm') or (t.typtype = 'c' and (select relkind from pg_class where oid = t.typrelid) = 'c'))
      and ${notFromExtension('pg_type', 't.oid')}`)
  for (const t of types) await tx.unsafe(`drop type if exists public.${quoteIdent(t.name)} cascade`)
}
