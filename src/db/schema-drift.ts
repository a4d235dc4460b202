/**
 * The schema the migrations produce, computed by running them on a scratch in-memory SQLite
 * database (table and column names are the same on both dialects), compared with a live one.
 */
import type { DbTarget } from './config.js';

export type SchemaShape = Map<string, string[]>;

export async function expectedSchema(): Promise<SchemaShape> {
  const { createKnex } = await import('./connection.js');
  const { migrateLatest } = await import('./migrator.js');
  const { listTables, listColumns } = await import('./dialect.js');
  const target: DbTarget = { kind: 'sqlite', filename: ':memory:', source: 'default', display: 'sqlite::memory:' };
  const knex = await createKnex(target);
  try {
    await migrateLatest(knex);
    const shape: SchemaShape = new Map();
    for (const t of await listTables(knex)) shape.set(t, await listColumns(knex, t));
    return shape;
  } finally {
    await knex.destroy();
  }
}

/** Missing/extra tables and columns, as human-readable findings (empty when identical). */
export function compareSchema(expected: SchemaShape, live: SchemaShape, ignore: (table: string) => boolean = () => false): string[] {
  const findings: string[] = [];
  for (const [table, cols] of expected) {
    const have = live.get(table);
    if (!have) {
      findings.push(`missing table ${table}`);
      continue;
    }
    const missing = cols.filter((c) => !have.includes(c));
    const extra = have.filter((c) => !cols.includes(c));
    if (missing.length) findings.push(`${table}: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
    if (extra.length) findings.push(`${table}: extra column${extra.length > 1 ? 's' : ''} ${extra.join(', ')}`);
  }
  for (const table of live.keys()) {
    if (!expected.has(table) && !ignore(table)) findings.push(`extra table ${table}`);
  }
  return findings;
}
