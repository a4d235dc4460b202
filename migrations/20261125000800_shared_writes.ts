/**
 * Shared writes (issue 12): the platform app (Sequelize, the seed's models) writes the same tables,
 * with only the seed's columns. Every such INSERT must succeed and obey the seed's rules.
 * - revoked_tokens: the app's logout is `RevokedToken.create({ token, user_id, expires_at, reason })`,
 *   which failed on token_hash (NOT NULL, no default), and its `findOne({ where: { token } })` had
 *   no index.
 *   MySQL/MariaDB: token_hash becomes a STORED generated column, SHA2(token, 256), keeping its UNIQUE
 *   index (the seed's UNIQUE on a TEXT column, valid on MySQL too); a prefix index token(255) serves
 *   the app's lookup by token (a prefix is not unique, so it is a plain index).
 *   PostgreSQL: the same STORED generated column, encode(sha256(<token's UTF-8 bytes>), 'hex'), with
 *   its UNIQUE index (src/db/engines/postgres/token.ts); a hash index on token serves the app's
 *   lookup (any length, equality only).
 *   SQLite: the app's connection has none of billettigue's SQL functions (no SHA-256), so there is no
 *   generated column: token_hash is dropped and a UNIQUE index on token itself carries both the
 *   seed's UNIQUE and the lookup. billettigue finds a token by token_hash on MySQL and PostgreSQL,
 *   by token on SQLite.
 * - colis and colis_archive: weight >= 0 (the seed says MIN 0; a colis of weight 0 was refused).
 *   SQLite cannot change a CHECK in place: the table is rebuilt in this migration's transaction
 *   (src/db/engines/sqlite/rebuild.ts), rows, ids, indexes and foreign keys kept.
 * down reverses all of it; it refuses (changing nothing) while a colis of weight 0 exists, which
 * the old rule would not hold.
 */
import type { Knex } from 'knex';
import type { DbKind } from '../src/db/config.js';
import { dialectOf } from '../src/db/dialect.js';
import { Conflict } from '../src/domain/errors.js';
import { withCheck } from '../src/db/introspect.js';
import { replaceMysqlCheck } from '../src/db/engines/mysql/ddl.js';
import { rebuildSqliteTable, sqliteTableSql } from '../src/db/engines/sqlite/rebuild.js';
import { PG_TOKEN_HASH } from '../src/db/engines/postgres/token.js';

const WEIGHT_CHECKS = [
  ['colis', 'colis_weight_check'],
  ['colis_archive', 'colis_archive_weight_check'],
] as const;

interface EngineSteps {
  /** Replaces one CHECK's predicate (written with "quoted" identifiers on PostgreSQL and SQLite, `backquoted` on MySQL). */
  setCheck(knex: Knex, table: string, name: string, predicate: (column: string) => string): Promise<void>;
  tokensUp(knex: Knex): Promise<void>;
  tokensDown(knex: Knex): Promise<void>;
}

const STEPS: Record<DbKind, EngineSteps> = {
  mysql: {
    setCheck: (knex, table, name, predicate) => replaceMysqlCheck(knex, table, name, predicate('`weight`')),
    async tokensUp(knex) {
      await knex.raw('ALTER TABLE revoked_tokens MODIFY token_hash CHAR(64) AS (SHA2(token, 256)) STORED');
      await knex.raw('CREATE INDEX revoked_tokens_token_index ON revoked_tokens (token(255))');
    },
    async tokensDown(knex) {
      await knex.raw('DROP INDEX revoked_tokens_token_index ON revoked_tokens');
      await knex.raw('ALTER TABLE revoked_tokens MODIFY token_hash CHAR(64) NOT NULL');
    },
  },
  postgres: {
    async setCheck(knex, table, name, predicate) {
      await knex.raw(`ALTER TABLE ?? DROP CONSTRAINT ??, ADD CONSTRAINT ?? CHECK (${predicate('"weight"')})`, [table, name, name]);
    },
    async tokensUp(knex) {
      // A column cannot become generated in place before PostgreSQL 17: replaced, with its UNIQUE.
      await knex.raw('ALTER TABLE revoked_tokens DROP COLUMN token_hash');
      await knex.raw(`ALTER TABLE revoked_tokens ADD COLUMN token_hash char(64) GENERATED ALWAYS AS (${PG_TOKEN_HASH}) STORED NOT NULL`);
      await knex.raw('ALTER TABLE revoked_tokens ADD CONSTRAINT revoked_tokens_token_hash_unique UNIQUE (token_hash)');
      await knex.raw('CREATE INDEX revoked_tokens_token_index ON revoked_tokens USING hash (token)');
    },
    async tokensDown(knex) {
      await knex.raw('DROP INDEX revoked_tokens_token_index');
      await knex.raw('ALTER TABLE revoked_tokens ALTER COLUMN token_hash DROP EXPRESSION');
    },
  },
  sqlite: {
    async setCheck(knex, table, name, predicate) {
      await rebuildSqliteTable(knex, table, withCheck(await sqliteTableSql(knex, table), name, predicate('`weight`')));
    },
    async tokensUp(knex) {
      await knex.raw('DROP INDEX revoked_tokens_token_hash_unique');
      await knex.raw('ALTER TABLE revoked_tokens DROP COLUMN token_hash');
      await knex.raw('CREATE UNIQUE INDEX `revoked_tokens_token_unique` on `revoked_tokens` (`token`)');
    },
    async tokensDown(knex) {
      await knex.raw('DROP INDEX revoked_tokens_token_unique');
      const sql = (await sqliteTableSql(knex, 'revoked_tokens')).replace('`token` text not null, ', '`token` text not null, `token_hash` char(64) not null, ');
      const columns = ['id', 'token', 'user_id', 'revoked_at', 'expires_at', 'reason'];
      // bt_sha256: registered on billettigue's own SQLite connections (src/db/engines/sqlite/index.ts).
      await rebuildSqliteTable(knex, 'revoked_tokens', sql, {
        copy: { columns: [...columns, 'token_hash'], select: [...columns.map((c) => `"${c}"`), 'bt_sha256("token")'] },
      });
      await knex.raw('CREATE UNIQUE INDEX `revoked_tokens_token_hash_unique` on `revoked_tokens` (`token_hash`)');
    },
  },
};

async function setWeightRule(knex: Knex, predicate: (column: string) => string): Promise<void> {
  for (const [table, name] of WEIGHT_CHECKS) await STEPS[dialectOf(knex)].setCheck(knex, table, name, predicate);
}

export async function up(knex: Knex): Promise<void> {
  await STEPS[dialectOf(knex)].tokensUp(knex);
  await setWeightRule(knex, (w) => `${w} >= 0`);
}

export async function down(knex: Knex): Promise<void> {
  for (const [table] of WEIGHT_CHECKS) {
    const ids = (await knex(table).where('weight', '<=', 0).orderBy('id').limit(20).pluck('id')) as number[];
    if (ids.length > 0) {
      throw new Conflict(
        `cannot roll back 20261125000800_shared_writes: ${table} holds colis of weight 0 (ids ${ids.join(', ')}), which the old rule weight > 0 refuses; change them first`,
        { code: 'rollback_refused' },
      );
    }
  }
  await setWeightRule(knex, (w) => `${w} > 0`);
  await STEPS[dialectOf(knex)].tokensDown(knex);
}
