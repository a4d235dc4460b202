/**
 * "Exactly as before": the schema text and a checksum of the rows of tables, per engine.
 * MySQL: SHOW CREATE TABLE (AUTO_INCREMENT counters aside) and CHECKSUM TABLE.
 * PostgreSQL: the table's definition from pg_catalog (columns with types, defaults, generation;
 * constraints; indexes; the enum types it uses), the database's extensions and functions, and a
 * SHA-256 of its rows by id.
 * SQLite: the sqlite_master SQL of each table and its indexes, and a SHA-256 of its rows by rowid.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { listTables, rawRows } from '../../src/db/dialect.js';
import { SEED_TABLES } from '../../src/db/schema.js';

export interface Snapshot {
  tables: string[];
  schema: Record<string, string>;
  data: Record<string, string>;
}

/**
 * A PostgreSQL table's definition from the catalog: columns (in their order, or by name where a
 * change re-creates one, which PostgreSQL can only add last), constraints, indexes, enum types.
 */
export async function postgresSchemaText(knex: Knex | Knex.Transaction, table: string, columnsByName = false): Promise<string> {
  const cols = await rawRows<{ d: string }>(
    knex,
    `select a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || case when a.attnotnull then ' not null' else '' end
            || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '') || case when a.attgenerated <> '' then ' generated' else '' end
            || coalesce(' collate ' || nullif(co.collname, 'default'), '') as d
       from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum left join pg_collation co on co.oid = a.attcollation
      where a.attrelid = ?::regclass and a.attnum > 0 and not a.attisdropped order by ${columnsByName ? 'a.attname' : 'a.attnum'}`,
    [table],
  );
  const cons = await rawRows<{ d: string }>(knex, "select conname || ' ' || pg_get_constraintdef(oid) as d from pg_constraint where conrelid = ?::regclass order by conname", [table]);
  const idx = await rawRows<{ d: string }>(knex, 'select indexdef as d from pg_indexes where schemaname = current_schema() and tablename = ? order by indexname', [table]);
  const enums = await rawRows<{ d: string }>(
    knex,
    `select t.typname || ' enum (' || array_to_string(array(select e.enumlabel::text from pg_enum e where e.enumtypid = t.oid order by e.enumsortorder), ', ') || ')' as d
       from pg_type t where t.typtype = 'e' and t.oid in (select a.atttypid from pg_attribute a where a.attrelid = ?::regclass and not a.attisdropped) order by t.typname`,
    [table],
  );
  return [...cols, ...cons, ...idx, ...enums].map((r) => r.d).join(';\n');
}

/** The database-wide objects of the current schema: extensions, functions, types, sequences. */
async function postgresDatabaseText(knex: Knex): Promise<string> {
  const rows = await rawRows<{ d: string }>(
    knex,
    `select 'extension ' || extname as d from pg_extension
     union all select 'function ' || p.oid::regprocedure::text from pg_proc p where p.pronamespace = to_regnamespace(current_schema())
     union all select 'type ' || t.typname from pg_type t where t.typnamespace = to_regnamespace(current_schema()) and t.typtype in ('e', 'd', 'c') and t.typrelid = 0
     union all select 'sequence ' || c.relname from pg_class c where c.relnamespace = to_regnamespace(current_schema()) and c.relkind = 'S'
     order by 1`,
  );
  return rows.map((r) => r.d).join('\n');
}

export async function snapshotTables(knex: Knex, kind: string, tables: readonly string[] = SEED_TABLES): Promise<Snapshot> {
  const schema: Record<string, string> = {};
  const data: Record<string, string> = {};
  const hash = (rows: unknown[]) => createHash('sha256').update(JSON.stringify(rows)).digest('hex');
  for (const t of tables) {
    if (kind === 'mysql') {
      const [row] = await rawRows<Record<string, string>>(knex, 'SHOW CREATE TABLE ??', [t]);
      schema[t] = row!['Create Table']!.replace(/ AUTO_INCREMENT=\d+/, '');
      const [sum] = await rawRows<{ Checksum: number | string }>(knex, 'CHECKSUM TABLE ??', [t]);
      data[t] = String(sum!.Checksum);
    } else if (kind === 'postgres') {
      schema[t] = await postgresSchemaText(knex, t);
      data[t] = hash(await rawRows<unknown>(knex, `SELECT * FROM "${t}" ORDER BY id`));
    } else {
      const rows = await rawRows<{ type: string; name: string; sql: string | null }>(knex, 'SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? ORDER BY type, name', [t]);
      schema[t] = rows.map((r) => `${r.type} ${r.name}: ${r.sql ?? '(auto)'}`).join('\n');
      data[t] = hash(await rawRows<unknown>(knex, `SELECT * FROM "${t}" ORDER BY rowid`));
    }
  }
  if (kind === 'postgres' && tables === SEED_TABLES) schema['(database)'] = await postgresDatabaseText(knex);
  return { tables: await listTables(knex), schema, data };
}
