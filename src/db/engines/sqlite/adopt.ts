/**
 * Adoption on SQLite: indexes in place; a CHECK can only come with a rebuild of the table
 * (src/db/sqlite-rebuild.ts), undone by a rebuild from the original CREATE TABLE text.
 */
import type { AdoptEngine } from '../../adopt/engine.js';
import type { Op } from '../../adopt/ops.js';
import { rebuildSqliteTable, sqliteRebuildStatements, sqliteTableSql, withoutForeignKeys } from './rebuild.js';

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

export const sqliteAdopt: AdoptEngine = {
  name: 'sqlite',
  quote: q,
  collation: null,
  transactionalDdl: true,
  missingObject: (err) => /no such (index|table|column)/i.test((err as Error).message ?? ''),
  // A rebuilt table may be referenced by others: foreign keys off (outside the transaction) so that
  // neither the rename nor the drop touches the children (src/db/engines/sqlite/rebuild.ts).
  aroundTransaction: (knex, op, inTransaction) => ('rebuild' in op ? withoutForeignKeys(knex, inTransaction) : inTransaction()),
  async runOp(db, op: Op) {
    if (!('rebuild' in op)) throw new Error('not a SQLite adoption op');
    await rebuildSqliteTable(db, op.rebuild.table, op.rebuild.createSql);
  },
  async opStatements(db, op: Op) {
    if (!('rebuild' in op)) throw new Error('not a SQLite adoption op');
    return sqliteRebuildStatements(db, op.rebuild.table, op.rebuild.createSql);
  },
  createIndex(table, name, columns, unique) {
    return {
      summary: `${unique ? 'unique ' : ''}index ${name} on ${table} (${columns.join(', ')})`,
      forward: { sql: [`CREATE ${unique ? 'UNIQUE ' : ''}INDEX ${q(name)} ON ${q(table)} (${columns.map(q).join(', ')})`] },
      inverse: { sql: [`DROP INDEX ${q(name)}`] },
    };
  },
  async addChecks(db, table, checks) {
    const original = await sqliteTableSql(db, table.name);
    const close = original.lastIndexOf(')');
    const added = checks.map((c) => `, constraint ${q(c.name)} check (${c.predicate})`).join('');
    return {
      summary: `CHECK ${checks.map((c) => c.name).join(', ')} on ${table.name} (SQLite: the table is rebuilt, rows and ids kept)`,
      forward: { rebuild: { table: table.name, createSql: `${original.slice(0, close)}${added}${original.slice(close)}` } },
      inverse: { rebuild: { table: table.name, createSql: original } },
    };
  },
  tokenLookup(table, unique) {
    // No generated column: the app's connections have no SHA-256 function. The token itself is
    // indexed (UNIQUE: the seed's rule) and billettigue looks tokens up by it on SQLite.
    if (table.indexes.some((i) => i.columns[0] === 'token')) return [];
    const name = unique ? 'revoked_tokens_token_unique' : 'revoked_tokens_token_index';
    return [this.createIndex('revoked_tokens', name, ['token'], unique)];
  },
};
