/**
 * Restore-side DDL: a CREATE TABLE as SHOW CREATE TABLE prints it (ours and mysqldump's) is split
 * into the table with its primary key and CHECKs only, the secondary indexes, and the foreign
 * keys. Loading into a table without secondary indexes and building them afterwards in one
 * ALTER (sorted index build) is several times faster than maintaining them row by row; the
 * foreign keys are added last (FOREIGN_KEY_CHECKS=0: metadata only, no table rebuild). The result
 * is the same table as the CREATE TABLE describes (same index and constraint names and order).
 */

export interface SplitTable {
  name: string;
  /** CREATE TABLE with columns, PRIMARY KEY, CHECK constraints and table options. */
  base: string;
  /** `ADD …KEY …` clauses, in their original order. */
  keys: string[];
  /** `ADD CONSTRAINT … FOREIGN KEY …` clauses. */
  foreignKeys: string[];
  /** Column names and their declared type (first word), in order. */
  columns: Array<{ name: string; type: string; generated: boolean }>;
}

const KEY_LINE = /^(UNIQUE\s+KEY|UNIQUE\s+INDEX|KEY|INDEX|FULLTEXT\s+KEY|SPATIAL\s+KEY|FULLTEXT\s+INDEX|SPATIAL\s+INDEX)\s/i;
const FK_LINE = /^(CONSTRAINT\s+`(?:[^`]|``)+`\s+)?FOREIGN\s+KEY\s/i;

/** Splits a SHOW CREATE TABLE text; returns null when it is not in that shape (then load it as is). */
export function splitCreateTable(sql: string): SplitTable | null {
  const text = sql.replace(/\r\n/g, '\n').trim();
  const lines = text.split('\n');
  const head = /^CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`((?:[^`]|``)+)`\s*\($/i.exec(lines[0] ?? '');
  const last = lines[lines.length - 1] ?? '';
  if (!head || !last.startsWith(')') || lines.length < 3) return null;
  const name = head[1]!.replace(/``/g, '`');
  const body = lines.slice(1, -1).map((l) => l.trim().replace(/,$/, ''));
  const keep: string[] = [];
  const keys: string[] = [];
  const foreignKeys: string[] = [];
  const columns: SplitTable['columns'] = [];
  let autoIncrementColumn: string | null = null;
  let primaryFirst: string | null = null;
  for (const line of body) {
    if (line.startsWith('`')) {
      const m = /^`((?:[^`]|``)+)`\s+([A-Za-z]+)/.exec(line);
      if (!m) return null;
      const col = m[1]!.replace(/``/g, '`');
      columns.push({ name: col, type: m[2]!.toLowerCase(), generated: /\b(GENERATED\s+ALWAYS|AS\s*\(.*\)\s*(VIRTUAL|STORED|PERSISTENT))/i.test(line) });
      if (/\bAUTO_INCREMENT\b/i.test(line)) autoIncrementColumn = col;
      keep.push(line);
    } else if (/^PRIMARY\s+KEY\s/i.test(line)) {
      primaryFirst = /\(`((?:[^`]|``)+)`/.exec(line)?.[1] ?? null;
      keep.push(line);
    } else if (KEY_LINE.test(line)) {
      keys.push(`ADD ${line}`);
    } else if (FK_LINE.test(line)) {
      foreignKeys.push(`ADD ${line}`);
    } else if (/^(CONSTRAINT\s+`(?:[^`]|``)+`\s+)?CHECK\s*\(/i.test(line)) {
      keep.push(line);
    } else {
      return null;
    }
  }
  // An AUTO_INCREMENT column must lead some index at CREATE time: keep everything if only a
  // secondary key provides it.
  if (autoIncrementColumn && autoIncrementColumn !== primaryFirst) return null;
  const base = `${lines[0]}\n  ${keep.join(',\n  ')}\n${last}`;
  return { name, base, keys, foreignKeys, columns };
}

/** Column types that LOAD DATA cannot take from our INSERT text unchanged (hex/binary literals). */
export function hasBinaryColumns(t: SplitTable): boolean {
  return t.columns.some((c) => /^(binary|varbinary|tinyblob|blob|mediumblob|longblob|bit|geometry|point|linestring|polygon|multipoint|multilinestring|multipolygon|geometrycollection)$/.test(c.type));
}
