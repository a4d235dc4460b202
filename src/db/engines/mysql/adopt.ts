/**
 * Adoption on MySQL/MariaDB: in-place DDL, one statement per change; DDL commits as it runs.
 * Own op: `keys` (a table's secondary keys put back exactly, see AdoptEngine.keyLines).
 */
import type { AdoptEngine } from '../../adopt/engine.js';
import type { Op } from '../../adopt/ops.js';
import { mysqlKeyLines, restoreMysqlKeys } from './ddl.js';

const q = (name: string) => `\`${name.replace(/`/g, '``')}\``;

export const mysqlAdopt: AdoptEngine = {
  name: 'mysql',
  quote: q,
  collation: 'utf8mb4_unicode_ci',
  createIndex(table, name, columns, unique) {
    return {
      summary: `${unique ? 'unique ' : ''}index ${name} on ${table} (${columns.join(', ')})`,
      forward: { sql: [`CREATE ${unique ? 'UNIQUE ' : ''}INDEX ${q(name)} ON ${q(table)} (${columns.map(q).join(', ')})`] },
      inverse: { sql: [`DROP INDEX ${q(name)} ON ${q(table)}`] },
    };
  },
  async addChecks(_db, table, checks) {
    return {
      summary: `CHECK ${checks.map((c) => c.name).join(', ')} on ${table.name}`,
      forward: { sql: [`ALTER TABLE ${q(table.name)} ${checks.map((c) => `ADD CONSTRAINT ${q(c.name)} CHECK (${c.predicate})`).join(', ')}`] },
      inverse: { sql: [`ALTER TABLE ${q(table.name)} ${checks.map((c) => `DROP CONSTRAINT ${q(c.name)}`).join(', ')}`] },
    };
  },
  keyLines: mysqlKeyLines,
  transactionalDdl: false,
  missingObject(err) {
    // 1091 can't drop (no such index/column/constraint), 1051 unknown table, 1146 no such table.
    const errno = (err as { errno?: number }).errno;
    return errno === 1091 || errno === 1051 || errno === 1146;
  },
  async runOp(db, op: Op) {
    if (!('keys' in op)) throw new Error('not a MySQL adoption op');
    await restoreMysqlKeys(db, op.keys.table, op.keys.lines);
  },
  async opStatements(_db, op: Op) {
    if (!('keys' in op)) throw new Error('not a MySQL adoption op');
    return [`-- the keys of ${op.keys.table} put back exactly as: ${op.keys.lines.join(', ')}`];
  },
  tokenLookup(table, unique) {
    const changes = [];
    if (!table.columns.some((c) => c.name === 'token_hash')) {
      // The hash billettigue looks tokens up by, computed by the server from the app's row: the
      // app inserts the seed's columns only. A TEXT column cannot carry a UNIQUE index on MySQL.
      const idx = unique ? 'UNIQUE INDEX `revoked_tokens_token_hash_unique`' : 'INDEX `revoked_tokens_token_hash_index`';
      changes.push({
        summary: `revoked_tokens.token_hash, computed by the database (SHA2(token, 256)), ${unique ? 'unique' : 'indexed'}`,
        forward: { sql: [`ALTER TABLE \`revoked_tokens\` ADD COLUMN \`token_hash\` CHAR(64) AS (SHA2(\`token\`, 256)) STORED, ADD ${idx} (\`token_hash\`)`] },
        inverse: {
          sql: [`ALTER TABLE \`revoked_tokens\` DROP INDEX ${unique ? '`revoked_tokens_token_hash_unique`' : '`revoked_tokens_token_hash_index`'}, DROP COLUMN \`token_hash\``],
        },
      });
    }
    // MariaDB's hash-based UNIQUE on a TEXT column serves no lookup: WHERE token = ? would scan.
    const served = table.indexes.some((i) => i.usableForLookup && i.columns[0] === 'token');
    if (!served) {
      const token = table.columns.find((c) => c.name === 'token');
      const col = token?.family === 'string' && (token.length ?? 0) <= 255 ? '`token`' : '`token`(255)';
      changes.push({
        summary: `index revoked_tokens_token_index on revoked_tokens (${col.replace(/`/g, '')}): the app's WHERE token = ?`,
        forward: { sql: [`CREATE INDEX \`revoked_tokens_token_index\` ON \`revoked_tokens\` (${col})`] },
        inverse: { sql: ['DROP INDEX `revoked_tokens_token_index` ON `revoked_tokens`'] },
      });
    }
    return changes;
  },
};
