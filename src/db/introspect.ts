/**
 * What a live database holds, table by table, in one shape whatever the engine: columns (type
 * family, length, scale, nullability, default, collation, generated), indexes, foreign keys and
 * CHECK constraints. `db adopt` compares it with what billettigue expects; the expected side is
 * read the same way from a scratch SQLite database the migrations built (src/db/adopt/expected.ts).
 */
import type { Knex } from 'knex';
import { engineOf } from './engines/index.js';

export type TypeFamily = 'integer' | 'boolean' | 'decimal' | 'float' | 'string' | 'text' | 'datetime' | 'date' | 'time' | 'binary' | 'other';

export interface LiveColumn {
  name: string;
  /** Declared type, lower case, as the database prints it: `int(11)`, `varchar(255)`, `float`, `timestamp with time zone`. */
  type: string;
  family: TypeFamily;
  /** Characters of a string column (null: unbounded or not a string). */
  length: number | null;
  /** Digits after the point of a decimal column. */
  scale: number | null;
  nullable: boolean;
  /** The default as the database reports it (null: none, or NULL). */
  default: string | null;
  collation: string | null;
  generated: boolean;
  primaryKey: boolean;
  /** The labels of an enumerated type (PostgreSQL's `enum_<table>_<column>` types), in order. */
  values?: string[];
}

export interface LiveIndex {
  name: string;
  columns: string[];
  unique: boolean;
  /** False for MariaDB's hash-based long UNIQUE keys, which no lookup can use. */
  usableForLookup: boolean;
}

export interface LiveForeignKey {
  name: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete: string;
}

export interface LiveCheck {
  name: string;
  predicate: string;
}

export interface LiveTable {
  name: string;
  columns: LiveColumn[];
  /** Secondary indexes and unique keys (the primary key is on the columns). */
  indexes: LiveIndex[];
  foreignKeys: LiveForeignKey[];
  checks: LiveCheck[];
  /** Default collation of the table (MySQL) or null. */
  collation: string | null;
}

export type LiveSchema = Map<string, LiveTable>;

/** Every base table of the current database (or only `tables`), described. */
export async function introspect(knex: Knex | Knex.Transaction, tables?: readonly string[]): Promise<LiveSchema> {
  return engineOf(knex).introspect(knex, tables);
}

/** Family of a type as MySQL/MariaDB name it (data_type + column_type). */
export function mysqlFamily(dataType: string, columnType: string): TypeFamily {
  const t = dataType.toLowerCase();
  if (t === 'tinyint' && /^tinyint\(1\)/.test(columnType.toLowerCase())) return 'boolean';
  if (['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint'].includes(t)) return 'integer';
  if (['decimal', 'numeric'].includes(t)) return 'decimal';
  if (['float', 'double', 'real'].includes(t)) return 'float';
  if (['char', 'varchar'].includes(t)) return 'string';
  if (['tinytext', 'text', 'mediumtext', 'longtext'].includes(t)) return 'text';
  if (['datetime', 'timestamp'].includes(t)) return 'datetime';
  if (t === 'date') return 'date';
  if (t === 'time') return 'time';
  if (/blob|binary|bit/.test(t)) return 'binary';
  return 'other';
}

/**
 * Family of a SQLite declared type (its affinity rules, refined): SQLite stores every number as
 * INTEGER or REAL whatever the declaration, so DECIMAL, FLOAT and knex's `float` for decimals are
 * all `decimal` here (money is computed in cents either way).
 */
export function sqliteFamily(declared: string): TypeFamily {
  const t = declared.toLowerCase();
  if (/^bool|^tinyint\(1\)/.test(t)) return 'boolean';
  if (/int/.test(t)) return 'integer';
  if (/char|varying|nvarchar/.test(t)) return 'string';
  if (/text|clob|json|enum/.test(t)) return 'text';
  if (/datetime|timestamp/.test(t)) return 'datetime';
  if (/^date$/.test(t)) return 'date';
  if (/^time$/.test(t)) return 'time';
  if (/blob|binary/.test(t)) return 'binary';
  if (/dec|numeric|real|floa|doub/.test(t)) return 'decimal';
  return 'other';
}

/** `varchar(255)` → 255; `decimal(8,2)` → scale 2. */
export function typeArgs(declared: string): { length: number | null; scale: number | null } {
  const m = /\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)/.exec(declared);
  return { length: m ? Number(m[1]) : null, scale: m?.[2] !== undefined ? Number(m[2]) : null };
}

/** CHECK constraints written in a CREATE TABLE text: `constraint NAME check (…)`, in order. */
export function checksInCreateSql(sql: string): LiveCheck[] {
  const out: LiveCheck[] = [];
  const re = /constraint\s+[`"[]?([A-Za-z0-9_$]+)[`"\]]?\s+check\s*\(/gi;
  for (let m = re.exec(sql); m; m = re.exec(sql)) {
    let depth = 1;
    let quoted = false;
    let i = re.lastIndex;
    for (; i < sql.length && depth > 0; i++) {
      const c = sql[i];
      if (c === "'") quoted = !quoted;
      else if (quoted) continue;
      else if (c === '(') depth++;
      else if (c === ')') depth--;
    }
    out.push({ name: m[1]!, predicate: sql.slice(re.lastIndex, i - 1).trim() });
    re.lastIndex = i;
  }
  return out;
}

/** Replaces one CHECK constraint's predicate in a CREATE TABLE text (the constraint keeps its name and place). */
export function withCheck(createSql: string, name: string, predicate: string): string {
  const re = new RegExp(`(constraint\\s+[\`"]?${name}[\`"]?\\s+check\\s*)\\(`, 'i');
  const m = re.exec(createSql);
  if (!m) throw new Error(`no CHECK ${name} in: ${createSql}`);
  // The predicate ends at the parenthesis that closes the one after CHECK.
  let depth = 0;
  let i = m.index + m[0].length - 1;
  let quoted = false;
  for (; i < createSql.length; i++) {
    const c = createSql[i];
    if (c === "'") quoted = !quoted;
    else if (quoted) continue;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) break;
  }
  return `${createSql.slice(0, m.index)}${m[1]}(${predicate})${createSql.slice(i + 1)}`;
}
