/**
 * Leftovers of an interrupted restore (staging tables/databases, temp files), reported by doctor
 * and cleaned by `restore`. The backup module owns the naming; this is the detection doctor needs.
 * Convention: staging databases/tables and files start with `bt_restore_` or `bt_old_`.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import type { DbTarget } from './config.js';
import { isMysql, rawRows } from './dialect.js';

export const LEFTOVER_PREFIXES = ['bt_restore_', 'bt_old_'];

export async function findRestoreLeftovers(knex: Knex, target: DbTarget): Promise<string[]> {
  const found: string[] = [];
  if (isMysql(knex) && target.kind === 'mysql') {
    const dbs = await rawRows<{ name: string }>(
      knex,
      "select schema_name as name from information_schema.schemata where schema_name like 'bt\\_restore\\_%' or schema_name like 'bt\\_old\\_%'",
    );
    found.push(...dbs.map((d) => `database ${d.name}`));
    const tables = await rawRows<{ name: string }>(
      knex,
      "select table_name as name from information_schema.tables where table_schema = database() and (table_name like 'bt\\_restore\\_%' or table_name like 'bt\\_old\\_%')",
    );
    found.push(...tables.map((t) => `table ${t.name}`));
  } else if (target.kind === 'sqlite') {
    const dir = path.dirname(target.filename);
    const base = path.basename(target.filename);
    if (existsSync(dir)) {
      for (const f of readdirSync(dir)) {
        if (f.startsWith(base) && LEFTOVER_PREFIXES.some((p) => f.includes(`.${p}`))) found.push(`file ${f}`);
      }
    }
  }
  return found;
}
