/**
 * Adoption on PostgreSQL: DDL is transactional, so each change commits together with its record
 * in billettigue_adoption (and the plan itself is computed in a transaction that previews the
 * functions adoption would create, then rolls back). In place: CREATE INDEX, ALTER TABLE … ADD
 * CONSTRAINT … CHECK, the generated token_hash; first of all bt_fold(), which billettigue's city
 * and account searches call, and the folded indexes that serve them.
 */
import type { AdoptEngine, Change } from '../../adopt/engine.js';
import { FOLDED_COLUMNS } from '../../schema.js';
import { rawRows } from '../../dialect.js';
import { FOLD_FUNCTION, foldFunctionSql, installedUnaccent, isUtf8 } from './index.js';
import { PG_TOKEN_HASH } from './token.js';

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** How long a change waits for its table's lock (ALTER TABLE and CREATE INDEX block the app's writes meanwhile). */
export const LOCK_TIMEOUT = '10s';

/** Objects outside the current schema whose definition calls bt_fold (indexes of set-aside tables). */
const FOLD_DEPENDENTS = `SELECT 1 FROM pg_depend WHERE refobjid = '${FOLD_FUNCTION}(text)'::regprocedure AND deptype = 'n'`;

function folded(table: string, column: string): boolean {
  return FOLDED_COLUMNS[table]?.includes(column) ?? false;
}

export const postgresAdopt: AdoptEngine = {
  name: 'postgres',
  quote: q,
  collation: null,
  transactionalDdl: true,
  stepSettings: [`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`],
  // 42704 undefined_object (index, constraint, type), 42P01 undefined_table, 42703 undefined_column, 42883 undefined_function.
  missingObject: (err) => ['42704', '42P01', '42703', '42883'].includes((err as { code?: string }).code ?? ''),
  indexKey(table, column) {
    // As pg_get_indexdef prints an index column (introspect.ts drops its ::text cast).
    return folded(table, column) ? { key: `${FOLD_FUNCTION}(${column})`, sql: `${FOLD_FUNCTION}(${q(column)})` } : { key: column, sql: q(column) };
  },
  createIndex(table, name, columns, unique) {
    const keys = columns.map((c) => this.indexKey!(table, c));
    return {
      summary: `${unique ? 'unique ' : ''}index ${name} on ${table} (${keys.map((k) => k.key).join(', ')})`,
      forward: { sql: [`CREATE ${unique ? 'UNIQUE ' : ''}INDEX ${q(name)} ON ${q(table)} (${keys.map((k) => k.sql).join(', ')})`] },
      inverse: { sql: [`DROP INDEX ${q(name)}`] },
    };
  },
  checkPredicate(table, predicate) {
    // The expected model's predicates come from SQLite's knex (`backquoted` names). An enum column
    // is compared as text: a label the type lacks would be an error, not a false comparison.
    return predicate.replace(/`((?:[^`]|``)+)`/g, (_, name: string) => {
      const col = table.columns.find((c) => c.name === name);
      return col?.values ? `${q(name)}::text` : q(name);
    });
  },
  async addChecks(_db, table, checks) {
    return {
      summary: `CHECK ${checks.map((c) => c.name).join(', ')} on ${table.name}`,
      forward: { sql: [`ALTER TABLE ${q(table.name)} ${checks.map((c) => `ADD CONSTRAINT ${q(c.name)} CHECK (${c.predicate})`).join(', ')}`] },
      inverse: { sql: [`ALTER TABLE ${q(table.name)} ${checks.map((c) => `DROP CONSTRAINT ${q(c.name)}`).join(', ')}`] },
    };
  },
  async schemaFunctions(db) {
    const [have] = await rawRows<{ n: number }>(db, `select count(*)::int as n from pg_proc where proname = ? and pronamespace = to_regnamespace(current_schema())`, [FOLD_FUNCTION]);
    if (have!.n > 0) return [];
    let schema = await installedUnaccent(db);
    const forward: string[] = [];
    const drops = [`DROP FUNCTION ${FOLD_FUNCTION}(text)`];
    if (!schema) {
      // unaccent is a trusted extension (PostgreSQL 13+): whoever may CREATE in the database may add it.
      const [can] = await rawRows<{ ok: boolean; schema: string }>(
        db,
        `select exists (select 1 from pg_available_extension_versions where name = 'unaccent' and (trusted or (select rolsuper from pg_roles where rolname = current_user)))
                and has_database_privilege(current_database(), 'CREATE') as ok, current_schema() as schema`,
      );
      if (can!.ok) {
        schema = can!.schema;
        forward.push('CREATE EXTENSION IF NOT EXISTS unaccent');
        drops.push('DROP EXTENSION unaccent');
      }
    }
    forward.push(foldFunctionSql(await isUtf8(db), schema));
    return [
      {
        summary: `function ${FOLD_FUNCTION}(text): accent- and case-insensitive search${forward.length > 1 ? ' (and the unaccent extension)' : ''}`,
        forward: { sql: forward },
        // Undone last (the indexes on it go first); kept while tables outside the adopted ones
        // still index on it: those a restore set aside for `restore --undo` (see keptOnUndo).
        inverse: { sql: [`DO $undo$ BEGIN IF NOT EXISTS (${FOLD_DEPENDENTS}) THEN ${drops.join('; ')}; END IF; END $undo$`] },
      },
    ];
  },
  async keptOnUndo(db) {
    const rows = await rawRows<{ schema: string }>(
      db,
      `select distinct n.nspname as schema from pg_depend d join pg_class c on c.oid = d.objid join pg_namespace n on n.oid = c.relnamespace
        where d.refobjid = to_regprocedure('${FOLD_FUNCTION}(text)') and d.classid = 'pg_class'::regclass and n.oid <> to_regnamespace(current_schema())
        order by 1`,
    );
    if (rows.length === 0) return [];
    return [
      `${FOLD_FUNCTION}() (and the unaccent extension, if adoption added it) stays: the tables a restore set aside for \`billettigue restore --undo\` (${rows.map((r) => r.schema).join(', ')}) index on it`,
    ];
  },
  tokenLookup(table, unique) {
    const changes: Change[] = [];
    if (!table.columns.some((c) => c.name === 'token_hash')) {
      // billettigue looks tokens up by their hash, computed by the server from the app's row.
      const key = unique ? `ADD CONSTRAINT "revoked_tokens_token_hash_unique" UNIQUE ("token_hash")` : null;
      changes.push({
        summary: `revoked_tokens.token_hash, computed by the database (SHA-256 of the token), ${unique ? 'unique' : 'indexed'}`,
        forward: {
          sql: [
            `ALTER TABLE "revoked_tokens" ADD COLUMN "token_hash" char(64) GENERATED ALWAYS AS (${PG_TOKEN_HASH}) STORED NOT NULL${key ? `, ${key}` : ''}`,
            ...(unique ? [] : ['CREATE INDEX "revoked_tokens_token_hash_index" ON "revoked_tokens" ("token_hash")']),
          ],
        },
        // Dropping the column drops its constraint and index with it.
        inverse: { sql: ['ALTER TABLE "revoked_tokens" DROP COLUMN "token_hash"'] },
      });
    }
    // Sequelize's `unique: true` on token is a btree UNIQUE constraint: it serves WHERE token = ?.
    if (!table.indexes.some((i) => i.usableForLookup && i.columns[0] === 'token')) {
      changes.push({
        summary: "index revoked_tokens_token_index on revoked_tokens (token, hash): the app's WHERE token = ?",
        forward: { sql: ['CREATE INDEX "revoked_tokens_token_index" ON "revoked_tokens" USING hash ("token")'] },
        inverse: { sql: ['DROP INDEX "revoked_tokens_token_index"'] },
      });
    }
    return changes;
  },
  async runOp() {
    throw new Error('PostgreSQL adoption has no ops of its own');
  },
  async opStatements() {
    throw new Error('PostgreSQL adoption has no ops of its own');
  },
};
