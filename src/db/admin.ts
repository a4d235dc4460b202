/** Server-level operations: dropping every table of the current database (db reset). */
import type { Knex } from 'knex';
import { engineOf } from './engines/index.js';

export async function dropAllTables(knex: Knex): Promise<void> {
  await engineOf(knex).dropAllTables(knex);
}
