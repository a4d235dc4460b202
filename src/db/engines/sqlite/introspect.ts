/** SQLite introspection: pragmas, and the CHECKs read from the CREATE TABLE text sqlite_master keeps. */
import type { Knex } from 'knex';
import { checksInCreateSql, sqliteFamily, typeArgs, type LiveSchema, type LiveTable } from '../../introspect.js';

type Db = Knex | Knex.Transaction;

async function all<T>(db: Db, sql: string, bindings: readonly unknown[] = []): Promise<T[]> {
  return (await db.raw(sql, bindings as Knex.RawBinding[])) as T[];
}

/** SQLite keeps a default as written: strip one level of quotes ('active' → active). */
function defaultOf(raw: string | null): string | null {
  if (raw === null || /^null$/i.test(raw)) return null;
  const m = /^'(.*)'$/s.exec(raw);
  return m ? m[1]!.replace(/''/g, "'") : raw;
}

export async function introspect(db: Db, only?: readonly string[]): Promise<LiveSchema> {
  const tables = await all<{ name: string; sql: string }>(
    db,
    "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
  );
  const schema: LiveSchema = new Map();
  for (const t of tables) {
    if (only && !only.includes(t.name)) continue;
    const info = await all<{ name: string; type: string; notnull: number; dflt_value: string | null; pk: number; hidden: number }>(
      db,
      'SELECT name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?)',
      [t.name],
    );
    const table: LiveTable = {
      name: t.name,
      columns: info.map((c) => {
        const family = sqliteFamily(c.type);
        const args = typeArgs(c.type);
        return {
          name: c.name,
          type: c.type.toLowerCase(),
          family,
          length: family === 'string' ? args.length : null,
          scale: family === 'decimal' ? args.scale : null,
          // An INTEGER PRIMARY KEY (the rowid) is never NULL, whatever its declaration says.
          nullable: c.notnull === 0 && c.pk === 0,
          default: defaultOf(c.dflt_value),
          collation: null,
          generated: c.hidden === 2 || c.hidden === 3,
          primaryKey: c.pk > 0,
        };
      }),
      indexes: [],
      foreignKeys: [],
      checks: checksInCreateSql(t.sql),
      collation: null,
    };
    const indexes = await all<{ name: string; unique: number; origin: string }>(db, 'SELECT name, "unique", origin FROM pragma_index_list(?) ORDER BY seq DESC', [t.name]);
    for (const i of indexes) {
      if (i.origin === 'pk') continue;
      const cols = await all<{ name: string | null }>(db, 'SELECT name FROM pragma_index_info(?) ORDER BY seqno', [i.name]);
      table.indexes.push({ name: i.name, columns: cols.map((c) => c.name ?? '(expression)'), unique: i.unique === 1, usableForLookup: true });
    }
    const fks = await all<{ id: number; table: string; from: string; to: string | null; on_delete: string }>(
      db,
      'SELECT id, "table", "from", "to", on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq',
      [t.name],
    );
    for (const f of fks) {
      let fk = table.foreignKeys.find((x) => x.name === `fk${f.id}`);
      if (!fk) {
        fk = { name: `fk${f.id}`, columns: [], refTable: f.table, refColumns: [], onDelete: f.on_delete.toUpperCase() };
        table.foreignKeys.push(fk);
      }
      fk.columns.push(f.from);
      fk.refColumns.push(f.to ?? 'id');
    }
    schema.set(t.name, table);
  }
  return schema;
}
