/** MySQL/MariaDB DDL helpers shared by migrations and adoption. */
import type { Knex } from 'knex';
import { rawRows } from './dialect.js';

type Db = Knex | Knex.Transaction;

/** CHECK constraints of a table, in the order SHOW CREATE TABLE prints them. */
export async function mysqlChecks(db: Db, table: string): Promise<Array<{ name: string; predicate: string }>> {
  const [row] = await rawRows<Record<string, string>>(db, 'SHOW CREATE TABLE ??', [table]);
  const out: Array<{ name: string; predicate: string }> = [];
  for (const line of row!['Create Table']!.split('\n')) {
    const m = /^\s*CONSTRAINT `((?:[^`]|``)+)` CHECK \((.*)\),?$/.exec(line);
    if (m) out.push({ name: m[1]!.replace(/``/g, '`'), predicate: m[2]! });
  }
  return out;
}

/**
 * Changes one CHECK's predicate. Every CHECK of the table is dropped and added again in its
 * original order (one ALTER), so SHOW CREATE TABLE keeps its shape and a reverse change gives
 * back the same text.
 */
export async function replaceMysqlCheck(db: Db, table: string, name: string, predicate: string): Promise<void> {
  const checks = await mysqlChecks(db, table);
  if (!checks.some((c) => c.name === name)) throw new Error(`no CHECK ${name} on ${table}`);
  const q = (n: string) => `\`${n.replace(/`/g, '``')}\``;
  const drops = checks.map((c) => `DROP CONSTRAINT ${q(c.name)}`);
  const adds = checks.map((c) => `ADD CONSTRAINT ${q(c.name)} CHECK (${c.name === name ? predicate : c.predicate})`);
  await db.raw(`ALTER TABLE ${q(table)} ${[...drops, ...adds].join(', ')}`);
}
