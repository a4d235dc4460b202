/**
 * `db adopt`, the report and the plan: the live schema (built by the platform app: Sequelize's
 * types, its own indexes, no CHECKs) compared table by table, column by column with what
 * billettigue expects (src/db/adopt/expected.ts), and the additive changes that would make
 * billettigue at home there without touching a row:
 *   0. the database functions billettigue's queries call (PostgreSQL: bt_fold);
 *   1. billettigue's own tables (audit_log, the archives), from the migrations' own DDL;
 *   2. the seed's and the CLI's indexes the app lacks (a UNIQUE one only if the rows are unique);
 *   3. each CHECK whose rule every existing row satisfies (the others are skipped, with the rows);
 *   4. the token lookup (engine-specific);
 *   5. the baseline: knex's migration tables, every current migration marked applied.
 * A missing seed table or column, or a column of an incompatible type, blocks adoption.
 */
import type { Knex } from 'knex';
import { introspect, type LiveColumn, type LiveIndex, type LiveSchema, type LiveTable, type TypeFamily } from '../introspect.js';
import { ADOPTION_TABLE, KNEX_TABLES, SEED_TABLES } from '../schema.js';
import { rawRows } from '../dialect.js';
import { adoptEngine, type AdoptEngine, type Change } from './engine.js';
import { expectedModel, productTablesDdl } from './expected.js';
import { runOp, type Op } from './ops.js';

export type Verdict = 'ok' | 'differs' | 'missing' | 'incompatible' | 'extra';

export interface ColumnReport {
  name: string;
  expected: string | null;
  found: string | null;
  verdict: Verdict;
  notes: string[];
}

export interface IndexReport {
  name: string;
  columns: string[];
  unique: boolean;
  /** The live index that serves it, if any. */
  found: string | null;
  action: 'none' | 'add' | 'skip';
  note: string | null;
}

export interface CheckReport {
  name: string;
  predicate: string;
  action: 'none' | 'add' | 'skip';
  /** Rows that break the rule (count, and the first ids). */
  violations: { count: number; ids: number[] } | null;
  /** Why nothing is needed although the constraint is absent (an enum type enforces the rule). */
  note: string | null;
}

export interface ForeignKeyReport {
  columns: string[];
  expected: string;
  found: string | null;
  verdict: 'ok' | 'differs' | 'missing';
  note: string | null;
}

export interface TableReport {
  name: string;
  /** present: a seed table found; missing: a seed table not found; create: billettigue's, to be created. */
  status: 'present' | 'missing' | 'create' | 'exists';
  collation: string | null;
  columns: ColumnReport[];
  indexes: IndexReport[];
  checks: CheckReport[];
  foreignKeys: ForeignKeyReport[];
  notes: string[];
}

export interface Step {
  kind: 'function' | 'table' | 'index' | 'check' | 'token' | 'baseline';
  table: string;
  summary: string;
  forward: Op;
  inverse: Op;
}

export interface AdoptionPlan {
  engine: string;
  tables: TableReport[];
  /** Tables of the database billettigue knows nothing about (left alone). */
  otherTables: string[];
  /** Why adoption is refused (empty: it can proceed). */
  blockers: string[];
  warnings: string[];
  steps: Step[];
}

/** How many ids of violating rows a report lists. */
const LIST_IDS = 20;

// ---- columns ----------------------------------------------------------------------------------

function describe(c: LiveColumn, family = false): string {
  const type = family ? `${c.family}${c.family === 'string' && c.length ? `(${c.length})` : ''}` : c.type;
  return [type, c.nullable ? 'null' : 'not null', ...(c.default !== null ? [`default ${c.default}`] : []), ...(c.primaryKey ? ['primary key'] : [])].join(', ');
}

/** Can billettigue read and write `live` where it expects `want`? null: yes; else why not. */
function incompatibility(want: LiveColumn, live: LiveColumn): string | null {
  const ok: Record<TypeFamily, TypeFamily[]> = {
    integer: ['integer', 'boolean'],
    boolean: ['boolean', 'integer'],
    decimal: ['decimal'],
    float: ['float', 'decimal'],
    string: ['string', 'text'],
    text: ['text', 'string'],
    datetime: ['datetime'],
    date: ['date', 'datetime'],
    time: ['time'],
    binary: ['binary'],
    other: ['other'],
  };
  if (ok[want.family].includes(live.family)) return null;
  if (want.family === 'decimal' && live.family === 'float') return 'money and weights are exact DECIMALs, this is a floating-point column';
  return `billettigue needs ${want.family}, this is ${live.type}`;
}

function sameDefault(a: string | null, b: string | null): boolean {
  const norm = (v: string | null) => {
    if (v === null) return null;
    const s = v.toLowerCase().replace(/\(\)$/, '');
    if (s === 'false') return '0';
    if (s === 'true') return '1';
    return /^-?\d+(\.\d+)?$/.test(s) ? String(Number(s)) : s;
  };
  return norm(a) === norm(b);
}

/** A CHECK of the form `column in ('a', 'b')` (NULL allowed or not): its column and values. */
function inListRule(predicate: string): { column: string; values: string[] } | null {
  const m = /^(?:[`"]?(\w+)[`"]? is null or )?[`"]?(\w+)[`"]? in \((.*)\)$/is.exec(predicate);
  if (!m || (m[1] && m[1] !== m[2])) return null;
  return { column: m[2]!, values: [...m[3]!.matchAll(/'((?:[^']|'')*)'/g)].map((x) => x[1]!.replace(/''/g, "'")) };
}

/** The values the expected table's CHECKs allow in `column` (null: no such rule). */
function allowedValues(want: LiveTable, column: string): string[] | null {
  for (const c of want.checks) {
    const rule = inListRule(c.predicate);
    if (rule?.column === column) return rule.values;
  }
  return null;
}

function columnReport(want: LiveColumn | undefined, live: LiveColumn | undefined, table: LiveTable | undefined, engine: AdoptEngine, allowed: string[] | null = null): ColumnReport {
  const name = (want ?? live)!.name;
  if (!live) return { name, expected: describe(want!, true), found: null, verdict: 'missing', notes: ['required by the seed'] };
  if (!want) {
    const notes = ['not in the seed: kept as is'];
    if (!live.nullable && live.default === null && !live.primaryKey && !live.generated) notes.push('NOT NULL without a default: billettigue does not write it, so its INSERTs into this table would fail');
    return { name, expected: null, found: describe(live), verdict: 'extra', notes };
  }
  const notes: string[] = [];
  const bad = incompatibility(want, live);
  if (bad) return { name, expected: describe(want, true), found: describe(live), verdict: 'incompatible', notes: [bad] };
  if (want.family === 'integer' && live.family === 'boolean') notes.push('a TINYINT(1): values above 127 do not fit');
  if (want.family === 'string' && live.family === 'string' && want.length && live.length && live.length < want.length) {
    notes.push(`holds ${live.length} characters, billettigue allows ${want.length}: longer values are refused by the database`);
  }
  if (want.family === 'decimal' && live.family === 'decimal' && live.scale !== null && live.scale !== 2) notes.push(`scale ${live.scale}: amounts are kept to the cent`);
  if (!want.nullable && live.nullable && !want.primaryKey) notes.push('accepts NULL (billettigue always writes a value)');
  if (want.nullable && !live.nullable) notes.push('NOT NULL here, nullable in billettigue\'s schema: where billettigue writes NULL (e.g. compte_id of a guest reservation) the database will refuse it');
  if (want.default !== null && !/current_timestamp/i.test(want.default) && !sameDefault(want.default, live.default)) {
    notes.push(`default ${live.default ?? 'none'} (the seed: ${want.default}; billettigue always writes it)`);
  }
  if (engine.collation && live.collation && table?.collation && live.collation !== table.collation) notes.push(`collation ${live.collation}`);
  if (live.values) {
    const refused = (allowed ?? []).filter((v) => !live.values!.includes(v));
    notes.push(`an enumerated type (${live.values.join(', ')}): billettigue writes its values as text, the type checks them`);
    if (refused.length) notes.push(`the type lacks ${refused.join(', ')}: billettigue's commands that set ${refused.length > 1 ? 'them' : 'it'} fail until the app's type has ${refused.length > 1 ? 'them' : 'it'}`);
  }
  return { name, expected: describe(want, true), found: describe(live), verdict: notes.length ? 'differs' : 'ok', notes };
}

// ---- indexes, checks, foreign keys -----------------------------------------------------------------

/**
 * A live index serves an expected one when it is as unique and leads with the same columns. A
 * trailing primary key column is implied: InnoDB and SQLite keep it in every secondary index.
 */
function serving(want: LiveIndex, live: LiveTable, key: (column: string) => string): LiveIndex | undefined {
  const pk = live.columns.filter((c) => c.primaryKey).map((c) => c.name);
  const cols = (!want.unique && pk.length === 1 && want.columns[want.columns.length - 1] === pk[0] ? want.columns.slice(0, -1) : want.columns).map(key);
  return live.indexes.find((i) => {
    if (!i.usableForLookup) return false;
    if (want.unique) return i.unique && i.columns.length === cols.length && cols.every((c) => i.columns.includes(c));
    return cols.every((c, k) => i.columns[k] === c);
  });
}

/** Rows sharing their `keys` (SQL: columns or the engine's index expressions) with another row. */
async function duplicateIds(db: Knex | Knex.Transaction, e: AdoptEngine, table: string, keys: string[]): Promise<{ count: number; ids: number[] }> {
  const t = e.quote(table);
  const cols = keys.join(', ');
  const notNull = keys.map((k) => `${k} IS NOT NULL`).join(' AND ');
  const dup = `SELECT ${cols} FROM ${t} WHERE ${notNull} GROUP BY ${cols} HAVING COUNT(*) > 1`;
  const where = keys.length === 1 ? `${cols} IN (${dup})` : `(${cols}) IN (${dup})`;
  const [n] = await rawRows<{ n: number | string }>(db, `SELECT COUNT(*) AS n FROM ${t} WHERE ${where}`);
  const count = Number(n!.n);
  const ids = count ? (await rawRows<{ id: number }>(db, `SELECT id FROM ${t} WHERE ${where} ORDER BY id LIMIT ${LIST_IDS}`)).map((r) => Number(r.id)) : [];
  return { count, ids };
}

async function violatingIds(db: Knex | Knex.Transaction, e: AdoptEngine, table: string, predicate: string): Promise<{ count: number; ids: number[] }> {
  // A CHECK holds unless its predicate is false (NULL passes): NOT (…) is true exactly then.
  const t = e.quote(table);
  const [n] = await rawRows<{ n: number | string }>(db, `SELECT COUNT(*) AS n FROM ${t} WHERE NOT (${predicate})`);
  const count = Number(n!.n);
  const ids = count ? (await rawRows<{ id: number }>(db, `SELECT id FROM ${t} WHERE NOT (${predicate}) ORDER BY id LIMIT ${LIST_IDS}`)).map((r) => Number(r.id)) : [];
  return { count, ids };
}

const FK_NOTES: Record<string, string> = {
  CASCADE: 'deleting the parent deletes these rows too',
  'SET NULL': 'deleting the parent empties this column',
  RESTRICT: 'the parent cannot be deleted while these rows exist',
  'NO ACTION': 'the parent cannot be deleted while these rows exist',
};

function foreignKeyReports(want: LiveTable, live: LiveTable): ForeignKeyReport[] {
  return want.foreignKeys.map((w) => {
    const expected = `${w.refTable}(${w.refColumns.join(', ')}) on delete ${w.onDelete}`;
    const l = live.foreignKeys.find((f) => f.columns.join() === w.columns.join());
    if (!l) return { columns: w.columns, expected, found: null, verdict: 'missing', note: 'no foreign key: the database does not stop orphans (`maintenance check` finds them)' };
    const found = `${l.refTable}(${l.refColumns.join(', ')}) on delete ${l.onDelete}`;
    const same = l.refTable === w.refTable && (l.onDelete === w.onDelete || (['RESTRICT', 'NO ACTION'].includes(l.onDelete) && ['RESTRICT', 'NO ACTION'].includes(w.onDelete)));
    return {
      columns: w.columns,
      expected,
      found,
      verdict: same ? 'ok' : 'differs',
      note: same ? null : `${FK_NOTES[l.onDelete] ?? l.onDelete} (billettigue checks references itself before it deletes)`,
    };
  });
}

// ---- the plan -----------------------------------------------------------------------------------

function textColumn(table: LiveTable | undefined, column: string): boolean {
  return table?.columns.find((c) => c.name === column)?.family === 'text';
}

class PlanDone extends Error {
  constructor(readonly plan: AdoptionPlan) {
    super('plan computed');
  }
}

export async function planAdoption(db: Knex): Promise<AdoptionPlan> {
  const engine = await adoptEngine(db);
  const functions = (await engine.schemaFunctions?.(db)) ?? [];
  if (functions.length === 0 || !engine.transactionalDdl) return planWith(db, engine, functions);
  // The checks of rows (a UNIQUE on folded cities) call the functions adoption would create: they
  // are created in a transaction that is rolled back once the plan is known.
  try {
    await db.transaction(async (trx) => {
      for (const f of functions) await runOp(trx, f.forward);
      throw new PlanDone(await planWith(trx, engine, functions));
    });
  } catch (err) {
    if (err instanceof PlanDone) return err.plan;
    throw err;
  }
  throw new Error('unreachable: the planning transaction always rolls back');
}

async function planWith(db: Knex | Knex.Transaction, engine: AdoptEngine, functions: Change[]): Promise<AdoptionPlan> {
  const expected = await expectedModel();
  const live = await introspect(db);
  const blockers: string[] = [];
  const warnings: string[] = [];
  const steps: Step[] = [];
  const tables: TableReport[] = [];
  const step = (kind: Step['kind'], table: string, c: Change) => steps.push({ kind, table, ...c });
  for (const f of functions) step('function', '', f);

  // 1. billettigue's own tables.
  const productDdl = await productTablesDdl(db as Knex, (t, p) => engine.checkPredicate?.(expected.get(t)!, p) ?? p);
  for (const { table, statements } of productDdl) {
    const want = expected.get(table)!;
    const have = live.get(table);
    if (have) {
      const missing = want.columns.filter((c) => !have.columns.some((h) => h.name === c.name)).map((c) => c.name);
      tables.push({ name: table, status: 'exists', collation: have.collation, columns: [], indexes: [], checks: [], foreignKeys: [], notes: [] });
      if (missing.length) blockers.push(`table ${table} exists but is not billettigue's (no column ${missing.join(', ')}): rename it first`);
      continue;
    }
    tables.push({ name: table, status: 'create', collation: engine.collation, columns: [], indexes: [], checks: [], foreignKeys: [], notes: [] });
    step('table', table, { summary: `create table ${table} (billettigue's own)`, forward: { sql: statements }, inverse: { sql: [`DROP TABLE ${engine.quote(table)}`] } });
  }

  // 2–4. The seed's tables.
  for (const name of SEED_TABLES) {
    const want = expected.get(name)!;
    const have = live.get(name);
    if (!have) {
      blockers.push(`table ${name} is missing`);
      tables.push({ name, status: 'missing', collation: null, columns: [], indexes: [], checks: [], foreignKeys: [], notes: ['required by the seed'] });
      continue;
    }
    const columns: ColumnReport[] = [];
    for (const w of want.columns) columns.push(columnReport(w, have.columns.find((c) => c.name === w.name), have, engine, allowedValues(want, w.name)));
    for (const h of have.columns) {
      if (!want.columns.some((w) => w.name === h.name) && !(name === 'revoked_tokens' && h.name === 'token_hash')) columns.push(columnReport(undefined, h, have, engine));
    }
    for (const c of columns) {
      if (c.verdict === 'missing') blockers.push(`column ${name}.${c.name} is missing`);
      if (c.verdict === 'incompatible') blockers.push(`column ${name}.${c.name}: ${c.notes[0]}`);
      const lacks = c.notes.find((n) => n.startsWith('the type lacks'));
      if (lacks) warnings.push(`${name}.${c.name}: ${lacks}`);
      if (c.verdict === 'extra' && c.notes.length > 1) warnings.push(`${name}.${c.name}: ${c.notes[1]}`);
    }
    const report: TableReport = { name, status: 'present', collation: have.collation, columns, indexes: [], checks: [], foreignKeys: foreignKeyReports(want, have), notes: [] };
    tables.push(report);
    const usable = columns.every((c) => c.verdict !== 'missing' && c.verdict !== 'incompatible');

    for (const idx of want.indexes) {
      // An index on a TEXT column is the token lookup: the engine's business (step 4).
      if (idx.columns.some((c) => textColumn(want, c))) continue;
      const key = (c: string) => engine.indexKey?.(name, c) ?? { key: c, sql: engine.quote(c) };
      const found = serving(idx, have, (c) => key(c).key);
      const r: IndexReport = { name: idx.name, columns: idx.columns.map((c) => key(c).key), unique: idx.unique, found: found?.name ?? null, action: 'none', note: null };
      report.indexes.push(r);
      if (found || !usable) continue;
      if (have.indexes.some((i) => i.name === idx.name)) {
        r.action = 'skip';
        r.note = `an index named ${idx.name} exists on other columns`;
        warnings.push(`${name}: index ${idx.name} not added: ${r.note}`);
        continue;
      }
      if (idx.unique) {
        const dup = await duplicateIds(db, engine, name, idx.columns.map((c) => key(c).sql));
        if (dup.count > 0) {
          r.action = 'skip';
          r.note = `${dup.count} rows share their (${idx.columns.join(', ')}): ids ${dup.ids.join(', ')}${dup.count > dup.ids.length ? ', …' : ''}`;
          warnings.push(`${name}: UNIQUE (${idx.columns.join(', ')}) not added: ${r.note}`);
          continue;
        }
      }
      r.action = 'add';
      step('index', name, engine.createIndex(name, idx.name, idx.columns, idx.unique));
    }

    const addable: Array<{ name: string; predicate: string }> = [];
    for (const expectedCheck of want.checks) {
      const chk = { name: expectedCheck.name, predicate: engine.checkPredicate?.(have, expectedCheck.predicate) ?? expectedCheck.predicate };
      const r: CheckReport = { name: chk.name, predicate: chk.predicate, action: 'none', violations: null, note: null };
      report.checks.push(r);
      if (have.checks.some((c) => c.name === chk.name) || !usable) continue;
      // `column in (…)` on an enumerated column whose labels are all allowed: the type is the rule.
      const rule = inListRule(expectedCheck.predicate);
      const labels = rule && have.columns.find((c) => c.name === rule.column)?.values;
      if (rule && labels?.every((l) => rule.values.includes(l))) {
        r.note = `enforced by the enumerated type of ${rule.column}`;
        continue;
      }
      const v = await violatingIds(db, engine, name, chk.predicate);
      r.violations = v;
      if (v.count > 0) {
        r.action = 'skip';
        warnings.push(`${name}: CHECK ${chk.name} (${chk.predicate}) not added: ${v.count} row(s) break it: ids ${v.ids.join(', ')}${v.count > v.ids.length ? ', …' : ''}`);
      } else {
        r.action = 'add';
        addable.push(chk);
      }
    }
    if (addable.length) step('check', name, await engine.addChecks(db, have, addable));

    if (name === 'revoked_tokens' && usable) {
      const dup = await duplicateIds(db, engine, name, [engine.quote('token')]);
      if (dup.count > 0) warnings.push(`revoked_tokens: ${dup.count} rows hold the same token (ids ${dup.ids.join(', ')}): the token lookup is indexed but not UNIQUE`);
      for (const c of engine.tokenLookup(have, dup.count === 0)) step('token', name, c);
    }
  }

  const collations = new Set(tables.filter((t) => t.status === 'present' && t.collation).map((t) => t.collation!));
  for (const c of collations) {
    if (/_bin$|_cs$|_as_cs/.test(c)) warnings.push(`collation ${c} compares text case- or accent-sensitively: billettigue finds emails as stored (lower case) and cities by their exact spelling`);
  }
  const known = new Set<string>([...expected.keys(), ...KNEX_TABLES, ADOPTION_TABLE]);
  const otherTables = [...live.keys()].filter((t) => !known.has(t)).sort();
  return { engine: engine.name, tables, otherTables, blockers, warnings, steps };
}

export type { LiveSchema };
