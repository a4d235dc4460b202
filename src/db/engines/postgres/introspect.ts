/**
 * PostgreSQL introspection: pg_catalog, in a handful of queries for the whole current schema.
 * What Sequelize builds there maps onto billettigue's families: SERIAL `integer` ids, `character
 * varying(255)`, `boolean`, `timestamp with time zone` (Sequelize's DATE), `numeric(p,s)`, and an
 * `enum_<table>_<column>` type per DataTypes.ENUM attribute (family `string`, its labels in
 * `values`). Expression index keys (billettigue's `bt_fold(city_name)`) are reported as their
 * expression, so that a plain index on the column does not pass for one that folds accents.
 */
import type { Knex } from 'knex';
import { typeArgs, type LiveSchema, type LiveTable, type TypeFamily } from '../../introspect.js';
import { rawRows } from '../../dialect.js';

type Db = Knex | Knex.Transaction;

/** Family of a PostgreSQL type: its pg_type name, and `e` for an enum type. */
export function postgresFamily(typeName: string, typeKind: string): TypeFamily {
  if (typeKind === 'e') return 'string';
  const t = typeName.toLowerCase();
  if (['int2', 'int4', 'int8'].includes(t)) return 'integer';
  if (t === 'bool') return 'boolean';
  if (t === 'numeric') return 'decimal';
  if (['float4', 'float8'].includes(t)) return 'float';
  if (['varchar', 'bpchar'].includes(t)) return 'string';
  if (['text', 'citext', 'json', 'jsonb'].includes(t)) return 'text';
  if (['timestamp', 'timestamptz'].includes(t)) return 'datetime';
  if (t === 'date') return 'date';
  if (['time', 'timetz'].includes(t)) return 'time';
  if (t === 'bytea') return 'binary';
  return 'other';
}

/**
 * A default as the catalog prints it, reduced to its value: `'active'::enum_comptes_status` and
 * `'logout'::character varying` → the string; `nextval(…)`, `now()`, `false`, `0` as they are.
 */
export function postgresDefault(expr: string | null): string | null {
  if (expr === null || /^null(::.*)?$/i.test(expr)) return null;
  const m = /^'((?:[^']|'')*)'::[\w\s."]+(\(\d+(,\d+)?\))?$/.exec(expr);
  if (m) return m[1]!.replace(/''/g, "'");
  const n = /^\(?(-?\d+(?:\.\d+)?)\)?::[\w\s]+$/.exec(expr);
  return n ? n[1]! : expr;
}

/** `CHECK ((weight >= (0)::numeric))` → `(weight >= (0)::numeric)`, the predicate without CHECK's own parentheses. */
function checkPredicate(def: string): string {
  const m = /^CHECK \((.*)\)( NOT VALID)?$/s.exec(def);
  return m ? m[1]! : def;
}

const ON_DELETE: Record<string, string> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };

export async function introspect(db: Db, only?: readonly string[]): Promise<LiveSchema> {
  const filter = only ? ` and c.relname = any(?)` : '';
  const args = only ? [[...only]] : [];
  const inSchema = `c.relnamespace = to_regnamespace(current_schema()) and c.relkind in ('r', 'p')${filter}`;
  const tables = await rawRows<{ name: string }>(db, `select c.relname as name from pg_class c where ${inSchema} order by c.relname`, args);
  const cols = await rawRows<{
    table_name: string;
    name: string;
    type: string;
    type_name: string;
    type_kind: string;
    not_null: boolean;
    default_expr: string | null;
    generated: string;
    collation: string | null;
    enum_values: string[] | null;
    primary_key: boolean;
  }>(
    db,
    `select c.relname as table_name, a.attname as name, format_type(a.atttypid, a.atttypmod) as type,
            t.typname as type_name, t.typtype as type_kind, a.attnotnull as not_null,
            pg_get_expr(d.adbin, d.adrelid) as default_expr, a.attgenerated as generated,
            case when a.attcollation <> 0 and co.collname <> 'default' then co.collname end as collation,
            case when t.typtype = 'e' then array(select e.enumlabel::text from pg_enum e where e.enumtypid = t.oid order by e.enumsortorder) end as enum_values,
            exists (select 1 from pg_index i where i.indrelid = c.oid and i.indisprimary and a.attnum = any(i.indkey)) as primary_key
       from pg_class c
       join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
       join pg_type t on t.oid = a.atttypid
       left join pg_attrdef d on d.adrelid = c.oid and d.adnum = a.attnum
       left join pg_collation co on co.oid = a.attcollation
      where ${inSchema}
      order by c.relname, a.attnum`,
    args,
  );
  const indexes = await rawRows<{ table_name: string; name: string; unique: boolean; usable: boolean; keys: string[] }>(
    db,
    // One key per index column: the column's name, or the expression (pg_get_indexdef's column form).
    `select c.relname as table_name, ic.relname as name, i.indisunique as unique,
            (am.amname in ('btree', 'hash') and i.indpred is null and i.indisvalid) as usable,
            array(select case when k.attnum = 0 then pg_get_indexdef(i.indexrelid, k.ord::int, true) else (select a.attname::text from pg_attribute a where a.attrelid = c.oid and a.attnum = k.attnum) end
                    from unnest(i.indkey::int2[]) with ordinality as k(attnum, ord) where k.ord <= i.indnkeyatts order by k.ord) as keys
       from pg_class c
       join pg_index i on i.indrelid = c.oid and not i.indisprimary
       join pg_class ic on ic.oid = i.indexrelid
       join pg_am am on am.oid = ic.relam
      where ${inSchema}
      order by c.relname, ic.relname`,
    args,
  );
  const constraints = await rawRows<{ table_name: string; name: string; type: string; def: string; columns: string[]; ref_table: string | null; ref_columns: string[] | null; on_delete: string }>(
    db,
    `select c.relname as table_name, k.conname as name, k.contype as type, pg_get_constraintdef(k.oid) as def,
            array(select a.attname::text from unnest(k.conkey) with ordinality as x(n, ord) join pg_attribute a on a.attrelid = k.conrelid and a.attnum = x.n order by x.ord) as columns,
            r.relname as ref_table,
            array(select a.attname::text from unnest(k.confkey) with ordinality as x(n, ord) join pg_attribute a on a.attrelid = k.confrelid and a.attnum = x.n order by x.ord) as ref_columns,
            k.confdeltype as on_delete
       from pg_class c
       join pg_constraint k on k.conrelid = c.oid and k.contype in ('c', 'f')
       left join pg_class r on r.oid = k.confrelid
      where ${inSchema}
      order by c.relname, k.conname`,
    args,
  );

  const schema: LiveSchema = new Map();
  for (const t of tables) schema.set(t.name, { name: t.name, columns: [], indexes: [], foreignKeys: [], checks: [], collation: null } satisfies LiveTable);
  for (const c of cols) {
    const family = postgresFamily(c.type_name, c.type_kind);
    const args = typeArgs(c.type);
    schema.get(c.table_name)?.columns.push({
      name: c.name,
      type: c.type,
      family,
      length: family === 'string' && c.type_kind !== 'e' ? args.length : null,
      scale: family === 'decimal' ? args.scale : null,
      nullable: !c.not_null,
      default: c.generated ? null : postgresDefault(c.default_expr),
      collation: c.collation,
      generated: c.generated !== '',
      primaryKey: c.primary_key,
      ...(c.enum_values ? { values: c.enum_values } : {}),
    });
  }
  for (const i of indexes) {
    // `bt_fold(city_name::text)` (a varchar column cast for the function) → `bt_fold(city_name)`.
    const keys = i.keys.map((k) => k.replace(/\(?(\w+)\)?::text\b/g, '$1'));
    schema.get(i.table_name)?.indexes.push({ name: i.name, columns: keys, unique: i.unique, usableForLookup: i.usable });
  }
  for (const k of constraints) {
    const table = schema.get(k.table_name);
    if (!table) continue;
    if (k.type === 'c') table.checks.push({ name: k.name, predicate: checkPredicate(k.def) });
    else table.foreignKeys.push({ name: k.name, columns: k.columns, refTable: k.ref_table!, refColumns: k.ref_columns ?? [], onDelete: ON_DELETE[k.on_delete] ?? k.on_delete });
  }
  return schema;
}
