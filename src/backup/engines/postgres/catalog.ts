/**
 * What a PostgreSQL backup writes about each table, read from the catalog of one schema (the
 * live one: `current_schema()`), in the shape pg_dump gives it:
 *   pre-data   CREATE SEQUENCE for the sequences the tables' columns own, CREATE TABLE with
 *              columns (type, collation, default, identity, generated, NOT NULL) and CHECKs,
 *              ALTER SEQUENCE … OWNED BY
 *   post-data  setval of those sequences, PRIMARY KEY / UNIQUE / EXCLUDE constraints, the other
 *              indexes, foreign keys
 * Names are written unqualified and deparsed (pg_get_expr, pg_get_constraintdef,
 * pg_get_indexdef) with search_path set to that schema alone, so the same text creates the tables
 * in whatever schema loads it: `public` under psql, a staging schema under `billettigue restore`.
 */
import { selectTables } from '../../dump-types.js';
import { isLeftoverName } from '../../../db/leftovers.js';
import type { ColumnInfo } from '../../canonical.js';
import { pgValueClass, type PgCls } from './copy-text.js';
import { qi, ql, rows, type PgSession } from './conn.js';

export interface PgColumn extends ColumnInfo {
  code: PgCls;
  /** Column definition as CREATE TABLE writes it (without the name). */
  definition: string;
  generated: boolean;
}

export interface PgSequence {
  name: string;
  column: string;
  /** 'a': a serial's OWNED BY; 'i': an identity column's. */
  kind: 'serial' | 'identity';
  createSql: string;
  /** Next value nextval() returns (MySQL's AUTO_INCREMENT meaning). */
  next: number | null;
  lastValue: string;
  isCalled: boolean;
}

export interface PgTableSpec {
  oid: string;
  name: string;
  /** Stored columns (generated ones excluded): what COPY writes and the hash covers. */
  columns: PgColumn[];
  allColumns: PgColumn[];
  primaryKey: string[];
  checks: Array<{ name: string; def: string }>;
  /** PRIMARY KEY, UNIQUE and EXCLUDE constraints (post-data: built after the rows). */
  keyConstraints: Array<{ name: string; def: string; kind: 'p' | 'u' | 'x' }>;
  indexes: Array<{ name: string; def: string }>;
  foreignKeys: Array<{ name: string; def: string; references: string }>;
  sequences: PgSequence[];
  estimatedRows: number;
  relfilenode: string;
}

/** Base tables of a schema (leftover helpers excluded), sorted by name. */
export async function listPgTables(conn: PgSession, schema: string): Promise<Array<{ oid: string; name: string }>> {
  const r = await rows<{ oid: string; name: string }>(
    conn,
    "SELECT c.oid::text AS oid, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY c.relname COLLATE \"C\"",
    [schema],
  );
  return r.filter((t) => !isLeftoverName(t.name));
}

/**
 * Reads the specs of `schema`'s tables (all of them, or `only`). Deparsed expressions come out
 * unqualified because the caller set search_path to that schema.
 */
export async function describePgTables(conn: PgSession, schema: string, only?: string[]): Promise<PgTableSpec[]> {
  const tables = selectTables(await listPgTables(conn, schema), only);
  if (tables.length === 0) return [];
  const oids = tables.map((t) => t.oid);
  const cols = await rows<{
    rel: string;
    name: string;
    type: string;
    basetype: string;
    notnull: boolean;
    def: string | null;
    identity: string;
    generated: string;
    collation: string | null;
  }>(
    conn,
    `SELECT a.attrelid::text AS rel, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            format_type(CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END, NULL) AS basetype,
            a.attnotnull AS notnull, pg_get_expr(d.adbin, d.adrelid) AS def, a.attidentity AS identity, a.attgenerated AS generated,
            CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0
                 THEN (SELECT quote_ident(co.collname) FROM pg_collation co WHERE co.oid = a.attcollation) END AS collation
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attrelid, a.attnum`,
    [oids],
  );
  const cons = await rows<{ rel: string; name: string; type: string; def: string; ref: string | null; keys: string | null }>(
    conn,
    `SELECT k.conrelid::text AS rel, k.conname AS name, k.contype AS type, pg_get_constraintdef(k.oid) AS def,
            CASE WHEN k.contype = 'f' THEN k.confrelid::regclass::text END AS ref,
            CASE WHEN k.contype = 'p' THEN (SELECT json_agg(a.attname ORDER BY x.n)::text FROM unnest(k.conkey) WITH ORDINALITY x(attnum, n)
                                             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = x.attnum) END AS keys
       FROM pg_constraint k
      WHERE k.conrelid = ANY($1::oid[]) AND k.contype IN ('p', 'u', 'c', 'f', 'x') AND k.conislocal
      ORDER BY k.conrelid, k.conname COLLATE "C"`,
    [oids],
  );
  // pg_get_indexdef always qualifies the table (` ON public.t USING`): `qualified` is that text.
  const idx = await rows<{ rel: string; name: string; def: string; qualified: string }>(
    conn,
    `SELECT i.indrelid::text AS rel, c.relname AS name, pg_get_indexdef(i.indexrelid) AS def,
            quote_ident(tn.nspname) || '.' || quote_ident(t.relname) AS qualified
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
      WHERE i.indrelid = ANY($1::oid[])
        AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
      ORDER BY c.relname COLLATE "C"`,
    [oids],
  );
  const seqs = await rows<{
    rel: string;
    name: string;
    col: string;
    dep: string;
    type: string;
    start: string;
    inc: string;
    min: string;
    max: string;
    cache: string;
    cycle: boolean;
  }>(
    conn,
    `SELECT d.refobjid::text AS rel, s.relname AS name, a.attname AS col, d.deptype AS dep, format_type(q.seqtypid, NULL) AS type,
            q.seqstart::text AS start, q.seqincrement::text AS inc, q.seqmin::text AS min, q.seqmax::text AS max, q.seqcache::text AS cache, q.seqcycle AS cycle
       FROM pg_class s
       JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
       JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
       JOIN pg_sequence q ON q.seqrelid = s.oid
      WHERE s.relkind = 'S' AND d.refobjid = ANY($1::oid[])
      ORDER BY s.relname COLLATE "C"`,
    [oids],
  );
  const stats = await rows<{ rel: string; est: string; fn: string }>(
    conn,
    'SELECT c.oid::text AS rel, GREATEST(c.reltuples, 0)::bigint::text AS est, c.relfilenode::text AS fn FROM pg_class c WHERE c.oid = ANY($1::oid[])',
    [oids],
  );
  const specs: PgTableSpec[] = [];
  for (const t of tables) {
    const mySeqs = seqs.filter((s) => s.rel === t.oid);
    const allColumns: PgColumn[] = cols
      .filter((c) => c.rel === t.oid)
      .map((c) => {
        const { cls, code } = pgValueClass(c.basetype);
        const seq = mySeqs.find((s) => s.col === c.name && s.dep === 'i');
        let definition = c.type;
        if (c.collation) definition += ` COLLATE ${c.collation}`;
        if (c.generated === 's') definition += ` GENERATED ALWAYS AS (${c.def}) STORED`;
        else if (c.identity === 'a' || c.identity === 'd') {
          definition += ` GENERATED ${c.identity === 'a' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY${seq ? ` (${sequenceOptions(seq, true)})` : ''}`;
        } else if (c.def !== null) definition += ` DEFAULT ${c.def}`;
        if (c.notnull) definition += ' NOT NULL';
        const scale = /numeric\(\d+,(\d+)\)/.exec(c.type);
        return { name: c.name, type: c.type, nullable: !c.notnull, cls, code, scale: scale ? Number(scale[1]) : 0, definition, generated: c.generated === 's' };
      });
    const mine = cons.filter((k) => k.rel === t.oid);
    const pk = mine.find((k) => k.type === 'p');
    const st = stats.find((s) => s.rel === t.oid);
    specs.push({
      oid: t.oid,
      name: t.name,
      allColumns,
      columns: allColumns.filter((c) => !c.generated),
      primaryKey: pk?.keys ? (JSON.parse(pk.keys) as string[]) : [],
      checks: mine.filter((k) => k.type === 'c').map((k) => ({ name: k.name, def: k.def })),
      keyConstraints: mine.filter((k) => k.type === 'p' || k.type === 'u' || k.type === 'x').map((k) => ({ name: k.name, def: k.def, kind: k.type as 'p' | 'u' | 'x' })),
      indexes: idx.filter((i) => i.rel === t.oid).map((i) => ({ name: i.name, def: unqualifiedIndex(i.def, i.qualified, t.name) })),
      foreignKeys: mine.filter((k) => k.type === 'f').map((k) => ({ name: k.name, def: k.def, references: unquote(k.ref ?? '') })),
      sequences: mySeqs.map((s) => ({
        name: s.name,
        column: s.col,
        kind: s.dep === 'i' ? 'identity' : 'serial',
        createSql: `CREATE SEQUENCE ${qi(s.name)} ${sequenceOptions(s, false)}`,
        next: null,
        lastValue: s.start,
        isCalled: false,
      })),
      estimatedRows: Number(st?.est ?? 0),
      relfilenode: st?.fn ?? '',
    });
  }
  return specs;
}

function sequenceOptions(s: { type: string; start: string; inc: string; min: string; max: string; cache: string; cycle: boolean; name: string }, identity: boolean): string {
  return [
    identity ? `SEQUENCE NAME ${qi(s.name)}` : '',
    `AS ${s.type}`,
    `START WITH ${s.start}`,
    `INCREMENT BY ${s.inc}`,
    `MINVALUE ${s.min}`,
    `MAXVALUE ${s.max}`,
    `CACHE ${s.cache}`,
    s.cycle ? 'CYCLE' : 'NO CYCLE',
  ]
    .filter(Boolean)
    .join(' ');
}

/** `CREATE INDEX n ON public.t USING …` → `… ON "t" USING …` (the loading schema decides). */
export function unqualifiedIndex(def: string, qualified: string, table: string): string {
  for (const on of [` ON ONLY ${qualified} USING `, ` ON ${qualified} USING `]) {
    const at = def.indexOf(on);
    if (at >= 0) return `${def.slice(0, at)}${on.startsWith(' ON ONLY') ? ' ON ONLY ' : ' ON '}${qi(table)} USING ${def.slice(at + on.length)}`;
  }
  return def;
}

/** regclass text → bare name ("Foo" → Foo, schema-qualified ones keep only the last part). */
function unquote(reg: string): string {
  const m = /(?:^|\.)(?:"((?:[^"]|"")+)"|([^."]+))$/.exec(reg);
  return m ? (m[1] ?? m[2] ?? reg).replace(/""/g, '"') : reg;
}

/** Reads every sequence's current position (sequences are not transactional: after the rows). */
export async function readSequences(conn: PgSession, specs: PgTableSpec[]): Promise<void> {
  for (const s of specs.flatMap((t) => t.sequences)) {
    const [r] = await rows<{ last: string; called: boolean; inc: string }>(
      conn,
      `SELECT last_value::text AS last, is_called AS called, (SELECT seqincrement::text FROM pg_sequence WHERE seqrelid = ${ql(qi(s.name))}::regclass) AS inc FROM ${qi(s.name)}`,
    );
    s.lastValue = r!.last;
    s.isCalled = r!.called;
    s.next = r!.called ? Number(r!.last) + Number(r!.inc) : Number(r!.last);
  }
}

/**
 * What the tables rely on outside themselves: the extensions of the database and the functions of
 * the live schema (bt_fold(), which expression indexes are built on). Each is written after a
 * `-- pre extension "<name>"` / `-- pre function "<signature>"` line: psql runs them as they are
 * (IF NOT EXISTS, OR REPLACE), a restore creates only what the database lacks.
 */
export interface PgObject {
  kind: 'extension' | 'function';
  /** Extension name, or function signature as regprocedure prints it (`bt_fold(text)`). */
  name: string;
  sql: string;
}

export async function describePgObjects(conn: PgSession, schema: string): Promise<{ objects: PgObject[]; skipped: string[] }> {
  const ext = await rows<{ name: string; schema: string }>(
    conn,
    "SELECT e.extname AS name, n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql' ORDER BY 1",
  );
  const fns = await rows<{ sig: string; kind: string; def: string | null }>(
    conn,
    `SELECT p.oid::regprocedure::text AS sig, p.prokind AS kind, CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) END AS def
       FROM pg_proc p
      WHERE p.pronamespace = to_regnamespace($1)
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
      ORDER BY 1`,
    [qi(schema)],
  );
  return {
    objects: [
      ...ext.map((e): PgObject => ({ kind: 'extension', name: e.name, sql: `CREATE EXTENSION IF NOT EXISTS ${qi(e.name)} WITH SCHEMA ${qi(e.schema)}` })),
      ...fns.filter((f) => f.def).map((f): PgObject => ({ kind: 'function', name: f.sig, sql: f.def!.trimEnd() })),
    ],
    skipped: fns.filter((f) => !f.def).map((f) => f.sig),
  };
}

export const PRE_OBJECTS_END = '-- end of database objects';

export function objectsText(objects: PgObject[]): string {
  return objects.map((o) => `-- pre ${o.kind} ${JSON.stringify(o.name)}\n${o.sql};\n`).join('') + PRE_OBJECTS_END + '\n';
}

/** The database objects of a backup's header, as objectsText wrote them (none in older files). */
export function parseObjects(header: string): PgObject[] {
  const end = header.indexOf(`\n${PRE_OBJECTS_END}\n`);
  if (end < 0) return [];
  return parseBlocks(header.slice(0, end + 1), /^-- pre (extension|function) ("(?:[^"\\]|\\.)*")\n/gm).map((b) => ({ kind: b.kind as PgObject['kind'], name: b.label, sql: b.sql }));
}

/** Statements each after a `-- <word> <kind> "<label>"` line, up to the next such line. */
function parseBlocks(block: string, re: RegExp): Array<{ kind: string; label: string; sql: string }> {
  const heads: Array<{ at: number; after: number; kind: string; label: string }> = [];
  for (let m = re.exec(block); m; m = re.exec(block)) heads.push({ at: m.index, after: m.index + m[0].length, kind: m[1]!, label: JSON.parse(m[2]!) as string });
  return heads.map((h, i) => ({
    kind: h.kind,
    label: h.label,
    sql: block.slice(h.after, i + 1 < heads.length ? heads[i + 1]!.at : block.length).trimEnd().replace(/;$/, ''),
  }));
}

/** The pre-data of the given tables: sequences, then tables, then OWNED BY. */
export function preData(specs: PgTableSpec[]): string {
  let out = '';
  for (const t of specs) for (const s of t.sequences) if (s.kind === 'serial') out += `${s.createSql};\n`;
  for (const t of specs) {
    const lines = t.allColumns.map((c) => `    ${qi(c.name)} ${c.definition}`);
    for (const k of t.checks) lines.push(`    CONSTRAINT ${qi(k.name)} ${k.def}`);
    out += `\n-- table ${t.name}\nCREATE TABLE ${qi(t.name)} (\n${lines.join(',\n')}\n);\n`;
  }
  for (const t of specs) for (const s of t.sequences) if (s.kind === 'serial') out += `ALTER SEQUENCE ${qi(s.name)} OWNED BY ${qi(t.name)}.${qi(s.column)};\n`;
  return out;
}

/** One post-data statement, tagged with the table it belongs to (restore builds them in parallel). */
export interface PostStatement {
  table: string;
  kind: 'setval' | 'key' | 'index' | 'foreign-key';
  sql: string;
}

export function postData(specs: PgTableSpec[]): PostStatement[] {
  const out: PostStatement[] = [];
  for (const t of specs) {
    for (const s of t.sequences) out.push({ table: t.name, kind: 'setval', sql: `SELECT pg_catalog.setval(${ql(qi(s.name))}, ${s.lastValue}, ${s.isCalled})` });
  }
  for (const t of specs) {
    // The primary key first: the other keys and the indexes follow (as pg_dump orders them).
    const keys = [...t.keyConstraints].sort((a, b) => (a.kind === 'p' ? -1 : b.kind === 'p' ? 1 : 0));
    for (const k of keys) out.push({ table: t.name, kind: 'key', sql: `ALTER TABLE ONLY ${qi(t.name)} ADD CONSTRAINT ${qi(k.name)} ${k.def}` });
    for (const i of t.indexes) out.push({ table: t.name, kind: 'index', sql: i.def });
  }
  for (const t of specs) {
    for (const f of t.foreignKeys) out.push({ table: t.name, kind: 'foreign-key', sql: `ALTER TABLE ONLY ${qi(t.name)} ADD CONSTRAINT ${qi(f.name)} ${f.def}` });
  }
  return out;
}

/** Each post-data statement follows a `-- post <kind> "<table>"` line; the block ends with a marker line. */
export const POST_DATA_END = '-- end of post-data';

export function postDataText(stmts: PostStatement[]): string {
  return stmts.map((s) => `-- post ${s.kind} ${JSON.stringify(s.table)}\n${s.sql};\n`).join('') + POST_DATA_END + '\n';
}

/** The post-data statements of a backup's footer, as postDataText wrote them. */
export function parsePostData(text: string): PostStatement[] {
  const end = text.indexOf(`\n${POST_DATA_END}\n`);
  const block = end < 0 ? text : text.slice(0, end + 1);
  return parseBlocks(block, /^-- post (setval|key|index|foreign-key) ("(?:[^"\\]|\\.)*")\n/gm).map((b) => ({ kind: b.kind as PostStatement['kind'], table: b.label, sql: b.sql }));
}
