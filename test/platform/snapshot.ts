/**
 * "Exactly as before": the schema text and a checksum of the rows of tables, per engine.
 * MySQL: SHOW CREATE TABLE (AUTO_INCREMENT counters aside) and CHECKSUM TABLE.
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

export async function snapshotTables(knex: Knex, kind: string, tables: readonly string[] = SEED_TABLES): Promise<Snapshot> {
  const schema: Record<string, string> = {};
  const data: Record<string, string> = {};
  for (const t of tables) {
    if (kind === 'mysql') {
      const [row] = await rawRows<Record<string, string>>(knex, 'SHOW CREATE TABLE ??', [t]);
      schema[t] = row!['Create Table']!.replace(/ AUTO_INCREMENT=\d+/, '');
      const [sum] = await rawRows<{ Checksum: number | string }>(knex, 'CHECKSUM TABLE ??', [t]);
      data[t] = String(sum!.Checksum);
    } else {
      const rows = await rawRows<{ type: string; name: string; sql: string | null }>(knex, 'SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? ORDER BY type, name', [t]);
      schema[t] = rows.map((r) => `${r.type} ${r.name}: ${r.sql ?? '(auto)'}`).join('\n');
      const all = await rawRows<unknown>(knex, `SELECT * FROM "${t}" ORDER BY rowid`);
      data[t] = createHash('sha256').update(JSON.stringify(all)).digest('hex');
    }
  }
  return { tables: await listTables(knex), schema, data };
}
