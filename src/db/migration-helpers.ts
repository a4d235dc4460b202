/**
 * Small helpers the migrations share so that every table is created the same way on every engine.
 */
import type { Knex } from 'knex';
import { engineOf } from './engines/index.js';

/** CREATE TABLE with the engine's table options (MySQL: InnoDB, utf8mb4_unicode_ci: case- and accent-insensitive text). */
export function createTable(
  knex: Knex,
  name: string,
  build: (t: Knex.CreateTableBuilder) => void,
): Knex.SchemaBuilder {
  return knex.schema.createTable(name, (t) => {
    engineOf(knex).tableOptions(t);
    build(t);
  });
}

/** created_at / updated_at: NOT NULL as the seed says, defaulting to the (UTC) insertion time. */
export function timestamps(knex: Knex, t: Knex.CreateTableBuilder): void {
  t.datetime('created_at').notNullable().defaultTo(knex.fn.now());
  t.datetime('updated_at').notNullable().defaultTo(knex.fn.now());
}

/** CHECK (column IN (...)), named `<table>_<column>_check` so errors say which rule refused. */
export function checkIn(t: Knex.CreateTableBuilder, table: string, column: string, values: readonly string[]): void {
  const list = values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ');
  t.check(`?? in (${list})`, [column], `${table}_${column}_check`);
}

/** Named CHECK with a predicate over columns of the row. */
export function check(t: Knex.CreateTableBuilder, table: string, name: string, predicate: string, columns: string[]): void {
  t.check(predicate, columns, `${table}_${name}_check`);
}

/** INTEGER UNSIGNED column referencing `<table>.id` (matching `increments()` on MySQL). */
export function foreignId(
  t: Knex.CreateTableBuilder,
  column: string,
  table: string,
  onDelete: 'CASCADE' | 'RESTRICT' | 'SET NULL',
  nullable = false,
): Knex.ColumnBuilder {
  const c = t.integer(column).unsigned();
  if (nullable) c.nullable();
  else c.notNullable();
  t.foreign(column).references('id').inTable(table).onDelete(onDelete).onUpdate('CASCADE');
  return c;
}

/**
 * A column matched by `whereFolded` (cities), as an index key: the column where the collation
 * already folds case and accents (MySQL), `bt_fold(column)` on PostgreSQL.
 */
export function folded(knex: Knex, column: string): string | Knex.Raw {
  return engineOf(knex).foldedKey(knex, column);
}

/**
 * UNIQUE over columns some of which are folded expressions: a unique index (PostgreSQL constraints
 * cannot hold expressions), a plain UNIQUE constraint where the keys are bare columns.
 */
export function uniqueKey(t: Knex.CreateTableBuilder, keys: Array<string | Knex.Raw>, indexName: string): void {
  const expression = keys.some((k) => typeof k !== 'string');
  t.unique(keys as string[], expression ? { indexName, useConstraint: false } : { indexName });
}
