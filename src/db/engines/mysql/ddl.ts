/** MySQL/MariaDB DDL helpers shared by migrations and adoption. */
import type { Knex } from 'knex';
import { rawRows } from '../../dialect.js';

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

/** The secondary key lines of SHOW CREATE TABLE (`KEY …`, `UNIQUE KEY …`), in order, without commas. */
export async function mysqlKeyLines(db: Db, table: string): Promise<string[]> {
  const [row] = await rawRows<Record<string, string>>(db, 'SHOW CREATE TABLE ??', [table]);
  return row!['Create Table']!
    .split('\n')
    .map((l) => l.trim().replace(/,$/, ''))
    .filter((l) => /^(UNIQUE |FULLTEXT |SPATIAL )?KEY `/.test(l));
}

function keyName(line: string): string {
  return /KEY `((?:[^`]|``)+)`/.exec(line)![1]!;
}

/**
 * Puts a table's secondary keys back exactly as `lines` says (names, definitions, order), in one
 * ALTER: from the first key that differs, every current key is dropped and the original ones are
 * added in their order. InnoDB silently drops an index it made for a foreign key when a new index
 * can serve that key; one statement keeps every foreign key served at all times.
 */
export async function restoreMysqlKeys(db: Db, table: string, lines: string[]): Promise<void> {
  const current = await mysqlKeyLines(db, table);
  let i = 0;
  while (i < current.length && i < lines.length && current[i] === lines[i]) i++;
  if (i === current.length && i === lines.length) return;
  const q = (n: string) => `\`${n.replace(/`/g, '``')}\``;
  const clauses = [...current.slice(i).map((l) => `DROP INDEX ${q(keyName(l).replace(/``/g, '`'))}`), ...lines.slice(i).map((l) => `ADD ${l}`)];
  await db.raw(`ALTER TABLE ${q(table)} ${clauses.join(', ')}`);
}
