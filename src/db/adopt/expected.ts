/**
 * What billettigue expects of a database, taken from the migrations themselves (one source of
 * truth): they run on a scratch in-memory SQLite database, which is then introspected like a live
 * one. Column families, nullability, defaults, indexes, foreign keys and CHECKs all come from there.
 *
 * The DDL of billettigue's own tables (audit_log, the archives) for the live engine is captured
 * from the same migrations: they run against a stand-in for the live connection whose schema
 * builder hands back its SQL instead of executing it (knex's toSQL), and which refuses any other
 * query, so nothing can reach the live database while capturing.
 */
import type { Knex } from 'knex';
import type { DbTarget } from '../config.js';
import { SEED_TABLES } from '../schema.js';
import { introspect, withCheck, type LiveSchema } from '../introspect.js';

let cached: Promise<LiveSchema> | undefined;

/** The schema the migrations build (every table, knex's own included), computed once per process. */
export function expectedModel(): Promise<LiveSchema> {
  cached ??= (async () => {
    const { createKnex } = await import('../connection.js');
    const { migrateLatest } = await import('../migrator.js');
    const target: DbTarget = { kind: 'sqlite', filename: ':memory:', source: 'default', display: 'sqlite::memory:' };
    const knex = await createKnex(target);
    try {
      await migrateLatest(knex);
      return await introspect(knex);
    } finally {
      await knex.destroy();
    }
  })();
  return cached;
}

class NotCapturable extends Error {}

/**
 * Runs `up(knex)` against a stand-in for `knex` and returns the DDL its schema builder calls
 * produce, in order. Any query that is not schema building (raw SQL, a query builder) throws:
 * such a migration cannot be captured and nothing of it ran.
 */
async function captureDdl(knex: Knex, up: (k: Knex) => Promise<void>): Promise<string[] | null> {
  const statements: string[] = [];
  const refuse = () => {
    throw new NotCapturable();
  };
  const schemaProxy = (real: Knex.SchemaBuilder) =>
    new Proxy(real, {
      get(target, prop) {
        const value = Reflect.get(target, prop) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const builder = (value as (...a: unknown[]) => Knex.SchemaBuilder).apply(target, args);
          return {
            then(resolve: (v: unknown) => void, reject: (e: unknown) => void) {
              try {
                for (const q of builder.toSQL() as unknown as Array<{ sql: string; bindings: unknown[] }>) {
                  statements.push(q.bindings.length ? knex.raw(q.sql, q.bindings as Knex.RawBinding[]).toQuery() : q.sql);
                }
                resolve(undefined);
              } catch (err) {
                reject(err);
              }
            },
          };
        };
      },
    });
  const stand = new Proxy(knex, {
    apply: refuse,
    get(target, prop, receiver) {
      if (prop === 'schema') return schemaProxy(target.schema);
      if (prop === 'raw' || prop === 'transaction' || prop === 'select' || prop === 'table' || prop === 'queryBuilder') return refuse;
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  try {
    await up(stand);
    return statements;
  } catch (err) {
    if (err instanceof NotCapturable) return null;
    throw err;
  }
}

export interface ProductTableDdl {
  table: string;
  /** CREATE TABLE then its indexes and foreign keys, as the live engine's knex writes them. */
  statements: string[];
}

/**
 * The DDL of billettigue's own tables (every table the migrations create beyond the seed's 12),
 * for the engine of `knex`, with each CHECK's predicate as the migrations leave it in the end
 * (a later migration may have changed it, e.g. colis_archive's weight rule in migration 800),
 * written by `predicate` for the live engine (the expected model's are SQLite's, `backquoted`).
 */
export async function productTablesDdl(knex: Knex, predicate: (table: string, sql: string) => string = (_t, sql) => sql): Promise<ProductTableDdl[]> {
  const { knownMigrations, loadMigration } = await import('../migrator.js');
  const expected = await expectedModel();
  const seed = new Set<string>(SEED_TABLES);
  const out: ProductTableDdl[] = [];
  for (const name of knownMigrations()) {
    const statements = await captureDdl(knex, (await loadMigration(name)).up);
    if (!statements) continue;
    for (const sql of statements) {
      const table = /^(?:create table|alter table|create (?:unique )?index \S+ on)\s+[`"]?([A-Za-z0-9_$]+)/i.exec(sql)?.[1];
      if (!table || seed.has(table)) continue;
      let entry = out.find((e) => e.table === table);
      if (!entry) {
        if (!/^create table/i.test(sql)) continue;
        entry = { table, statements: [] };
        out.push(entry);
      }
      let text = sql;
      if (/^create table/i.test(sql)) {
        for (const c of expected.get(table)?.checks ?? []) {
          if (new RegExp(`constraint\\s+[\`"]?${c.name}[\`"]?\\s+check`, 'i').test(text)) text = withCheck(text, c.name, predicate(table, c.predicate));
        }
      }
      entry.statements.push(text);
    }
  }
  return out.filter((e) => expected.has(e.table));
}
