/** MySQL/MariaDB introspection: information_schema, in a handful of queries for the whole database. */
import type { Knex } from 'knex';
import { rawRows } from '../../dialect.js';
import { mysqlFamily, type LiveCheck, type LiveSchema, type LiveTable } from '../../introspect.js';

type Db = Knex | Knex.Transaction;

interface ColumnRow {
  table_name: string;
  column_name: string;
  data_type: string;
  column_type: string;
  is_nullable: string;
  column_default: string | null;
  collation_name: string | null;
  extra: string;
  column_key: string;
  char_length: number | string | null;
  numeric_scale: number | string | null;
}

/** MariaDB writes a default as an SQL literal ('x', NULL, current_timestamp()); MySQL as the bare value. */
function defaultOf(raw: string | null): string | null {
  if (raw === null || raw === 'NULL') return null;
  const m = /^'(.*)'$/s.exec(raw);
  return m ? m[1]!.replace(/''/g, "'") : raw;
}

export async function introspect(db: Db, only?: readonly string[]): Promise<LiveSchema> {
  const inList = only ? ` AND table_name IN (${only.map(() => '?').join(', ')})` : '';
  const args = only ? [...only] : [];
  // Lower-case aliases: MySQL 8 returns information_schema column names in upper case.
  const tables = await rawRows<{ name: string; collation: string | null }>(
    db,
    `SELECT table_name AS name, table_collation AS collation FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'${inList} ORDER BY table_name`,
    args,
  );
  const cols = await rawRows<ColumnRow>(
    db,
    `SELECT table_name AS table_name, column_name AS column_name, data_type AS data_type, column_type AS column_type, is_nullable AS is_nullable,
            column_default AS column_default, collation_name AS collation_name, extra AS extra, column_key AS column_key,
            character_maximum_length AS char_length, numeric_scale AS numeric_scale
       FROM information_schema.columns WHERE table_schema = DATABASE()${inList} ORDER BY table_name, ordinal_position`,
    args,
  );
  const stats = await rawRows<{ table_name: string; index_name: string; non_unique: number | string; column_name: string; index_type: string }>(
    db,
    `SELECT table_name AS table_name, index_name AS index_name, non_unique AS non_unique, column_name AS column_name, index_type AS index_type
       FROM information_schema.statistics WHERE table_schema = DATABASE()${inList} ORDER BY table_name, index_name, seq_in_index`,
    args,
  );
  const fks = await rawRows<{ table_name: string; name: string; column_name: string; ref_table: string; ref_column: string; on_delete: string }>(
    db,
    `SELECT k.table_name AS table_name, k.constraint_name AS name, k.column_name AS column_name, k.referenced_table_name AS ref_table,
            k.referenced_column_name AS ref_column, r.delete_rule AS on_delete
       FROM information_schema.key_column_usage k
       JOIN information_schema.referential_constraints r ON r.constraint_schema = k.constraint_schema AND r.constraint_name = k.constraint_name AND r.table_name = k.table_name
      WHERE k.table_schema = DATABASE() AND k.referenced_table_name IS NOT NULL${only ? ` AND k.table_name IN (${only.map(() => '?').join(', ')})` : ''}
      ORDER BY k.table_name, k.constraint_name, k.ordinal_position`,
    args,
  );
  // information_schema.check_constraints has table_name on MariaDB; MySQL 8 needs table_constraints.
  const checks = await rawRows<{ table_name: string; name: string; predicate: string }>(
    db,
    `SELECT t.table_name AS table_name, c.constraint_name AS name, c.check_clause AS predicate
       FROM information_schema.check_constraints c
       JOIN information_schema.table_constraints t ON t.constraint_schema = c.constraint_schema AND t.constraint_name = c.constraint_name AND t.constraint_type = 'CHECK'
      WHERE c.constraint_schema = DATABASE()${only ? ` AND t.table_name IN (${only.map(() => '?').join(', ')})` : ''}
      ORDER BY t.table_name, c.constraint_name`,
    args,
  );

  const schema: LiveSchema = new Map();
  for (const t of tables) {
    const table: LiveTable = { name: t.name, columns: [], indexes: [], foreignKeys: [], checks: [], collation: t.collation };
    schema.set(t.name, table);
  }
  for (const c of cols) {
    schema.get(c.table_name)?.columns.push({
      name: c.column_name,
      type: c.column_type.toLowerCase(),
      family: mysqlFamily(c.data_type, c.column_type),
      length: c.char_length === null ? null : Number(c.char_length),
      scale: c.numeric_scale === null ? null : Number(c.numeric_scale),
      nullable: c.is_nullable === 'YES',
      default: defaultOf(c.column_default),
      collation: c.collation_name,
      generated: /GENERATED/i.test(c.extra),
      primaryKey: c.column_key === 'PRI',
    });
  }
  for (const s of stats) {
    const table = schema.get(s.table_name);
    if (!table || s.index_name === 'PRIMARY') continue;
    let idx = table.indexes.find((i) => i.name === s.index_name);
    if (!idx) {
      idx = { name: s.index_name, columns: [], unique: Number(s.non_unique) === 0, usableForLookup: s.index_type !== 'HASH' };
      table.indexes.push(idx);
    }
    idx.columns.push(s.column_name);
  }
  for (const f of fks) {
    const table = schema.get(f.table_name);
    if (!table) continue;
    let fk = table.foreignKeys.find((x) => x.name === f.name);
    if (!fk) {
      fk = { name: f.name, columns: [], refTable: f.ref_table, refColumns: [], onDelete: f.on_delete.toUpperCase() };
      table.foreignKeys.push(fk);
    }
    fk.columns.push(f.column_name);
    fk.refColumns.push(f.ref_column);
  }
  for (const c of checks) {
    const table = schema.get(c.table_name);
    if (table) table.checks.push({ name: c.name, predicate: c.predicate } satisfies LiveCheck);
  }
  return schema;
}
