/** Server-level operations: dropping every table of the current database (db reset). */
import type { Knex } from 'knex';
import { isMysql, listTables } from './dialect.js';

export async function dropAllTables(knex: Knex): Promise<void> {
  const tables = await listTables(knex);
  if (tables.length === 0) return;
  if (isMysql(knex)) {
    // FOREIGN_KEY_CHECKS is per session: pin one connection (DDL commits as it goes anyway).
    await knex.transaction(async (trx) => {
      await trx.raw('SET FOREIGN_KEY_CHECKS = 0');
      try {
        for (const t of tables) await trx.raw('DROP TABLE IF EXISTS ??', [t]);
      } finally {
        await trx.raw('SET FOREIGN_KEY_CHECKS = 1');
      }
    });
    return;
  }
  await knex.raw('PRAGMA foreign_keys = OFF');
  try {
    for (const t of tables) await knex.raw('DROP TABLE IF EXISTS ??', [t]);
  } finally {
    await knex.raw('PRAGMA foreign_keys = ON');
  }
}
