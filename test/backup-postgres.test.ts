/**
 * PostgreSQL backup and restore beyond the shared backup/restore tests: the COPY text → canonical
 * transcoder and the psql-script reader (no database), interop with pg_dump and psql both ways,
 * the swap seen by a concurrent reader, kill -9 at every phase, refusing another engine's backup.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, testedKinds, type TestDb } from './helpers/db.js';
import { run, runJson } from './helpers/cli.js';
import { dbState, fillAll, helperDatabases, notRestoreAudit, start, stockDump, stockLoad, TRICKY } from './backup-fixtures.js';
import { canonicalTuple, sqliteValueClass } from '../src/backup/canonical.js';
import { readManifest, type Manifest } from '../src/backup/manifest.js';
import { CopyToCanonical, pgValueClass } from '../src/backup/engines/postgres/copy-text.js';
import { readScript, type ScriptItem } from '../src/backup/engines/postgres/script.js';
import { classifyPgStatement, keyStatements, referencedTable, requalify } from '../src/backup/engines/postgres/load.js';
import { parsePostData, postDataText, unqualifiedIndex } from '../src/backup/engines/postgres/catalog.js';
import { rawRows } from '../src/db/dialect.js';

const pg = testedKinds().includes('postgres');

/** Feeds `data` to the transcoder in `step`-byte pieces; returns the canonical text. */
function transcode(data: Buffer, types: string[], step: number): string {
  const tr = new CopyToCanonical(Uint8Array.from(types.map((t) => pgValueClass(t).code)));
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += step) {
    tr.write(data, i, Math.min(data.length, i + step));
    tr.drain({ update: (b: Buffer) => out.push(Buffer.from(b)) });
  }
  tr.finish();
  return Buffer.concat(out).toString('utf8');
}

async function items(text: string, step: number): Promise<Array<{ kind: string; text: string; data?: string }>> {
  const buf = Buffer.from(text);
  const chunks = (async function* () {
    for (let i = 0; i < buf.length; i += step) yield buf.subarray(i, i + step);
  })();
  const out: Array<{ kind: string; text: string; data?: string }> = [];
  for await (const it of readScript(chunks) as AsyncIterable<ScriptItem>) {
    if (it.kind === 'copy') {
      const parts: Buffer[] = [];
      for await (const c of it.data) parts.push(Buffer.from(c));
      out.push({ kind: it.kind, text: it.text, data: Buffer.concat(parts).toString('utf8') });
    } else out.push({ kind: it.kind, text: it.text });
  }
  return out;
}

describe('COPY text → canonical rows (no database)', () => {
  const types = ['integer', 'text', 'boolean', 'numeric(10,2)', 'timestamp with time zone', 'timestamp without time zone', 'bytea', 'character varying(255)'];
  const copy = Buffer.from(
    [
      "1\tO'Brien\tt\t12.50\t2026-01-15 08:30:00+00\t2026-01-15 08:30:00\t\\\\x4f27\tback\\\\slash",
      '2\tnew\\nline\\r\\nend\tf\t0.00\t2026-01-15 08:30:00.5+00\t2026-01-15 08:30:01\t\\\\x\ttab\\there',
      '3\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N',
      '4\t\tf\t-1.05\t2026-01-15 08:30:00+00\t2026-01-15 08:30:00\t\\\\x00ff\tctrl\x1az \\b\\f\\v émoji 😀',
      "5\t\\\\N\tt\t1.00\t2026-01-15 08:30:00+00\t2026-01-15 08:30:00\t\\\\x5c\t'),('",
      '',
    ].join('\n'),
  );
  const expected =
    "(1,'O\\'Brien',1,12.50,'2026-01-15 08:30:00','2026-01-15 08:30:00',X'4F27','back\\\\slash')," +
    "(2,'new\\nline\\r\\nend',0,0.00,'2026-01-15 08:30:00.5','2026-01-15 08:30:01',X'','tab\there')," +
    '(3,NULL,NULL,NULL,NULL,NULL,NULL,NULL),' +
    "(4,'',0,-1.05,'2026-01-15 08:30:00','2026-01-15 08:30:00',X'00FF','ctrl\\Zz \b\f\v émoji 😀')," +
    "(5,'\\\\N',1,1.00,'2026-01-15 08:30:00','2026-01-15 08:30:00',X'5C','\\'),(\\'')," ;

  it('gives the canonical tuples, whatever the chunk boundaries', () => {
    for (const step of [1, 2, 3, 7, 64, copy.length]) expect(transcode(copy, types, step), `step ${step}`).toBe(expected);
  });

  it('is the form canonicalTuple gives for the same values (the other engines)', () => {
    const cols = ['integer', 'text', 'boolean', 'decimal(10,2)', 'datetime', 'datetime', 'blob', 'varchar(255)'].map((t, i) => ({ name: `c${i}`, type: t, nullable: true, ...sqliteValueClass(t) }));
    const row = [1, "O'Brien", 1, 12.5, '2026-01-15 08:30:00', '2026-01-15 08:30:00', Buffer.from("O'"), 'back\\slash'];
    expect(transcode(copy, types, 5).split('),(')[0] + ')').toBe(canonicalTuple(row, cols));
  });

  it('refuses a row with the wrong number of fields', () => {
    expect(() => transcode(Buffer.from('1\ta\n'), ['integer'], 100)).toThrow(/more fields/);
    expect(() => transcode(Buffer.from('1\n'), ['integer', 'text'], 100)).toThrow(/1 fields, the table 2 columns/);
    expect(() => transcode(Buffer.from('1\tab'), ['integer', 'text'], 100)).toThrow(/inside a row/);
  });
});

describe('psql script reader (no database)', () => {
  const script = [
    '--',
    '-- PostgreSQL database dump',
    '--',
    '\\restrict abc',
    "SET standard_conforming_strings = on;",
    "SELECT pg_catalog.set_config('search_path', '', false);",
    "CREATE TABLE public.t (id integer NOT NULL, s text DEFAULT 'a;b' CHECK (s <> E'\\';x'));",
    '/* a /* nested */ comment; */',
    'CREATE FUNCTION public.f() RETURNS text LANGUAGE sql AS $body$ SELECT \'x;y\' $body$;',
    'COPY public.t (id, s) FROM stdin;',
    '1\ta;b',
    '2\t\\.x',
    '3\t\\N',
    '\\.',
    'SELECT pg_catalog.setval(\'public.t_id_seq\', 3, true);',
    'COPY public.t (id, s) FROM stdin;',
    '\\.',
    '\\unrestrict abc',
    '',
  ].join('\n');

  it('splits statements, meta-commands and COPY blocks, whatever the chunk boundaries', async () => {
    const want = await items(script, script.length);
    expect(want.map((i) => i.kind)).toEqual(['meta', 'sql', 'sql', 'sql', 'sql', 'copy', 'sql', 'copy', 'meta']);
    expect(want[3]!.text).toContain("CHECK (s <> E'\\';x')");
    expect(want[4]!.text).toContain('$body$ SELECT \'x;y\' $body$');
    expect(want[5]!.data).toBe('1\ta;b\n2\t\\.x\n3\t\\N\n');
    expect(want[7]!.data).toBe('');
    for (const step of [1, 2, 3, 5, 13, 64]) expect(await items(script, step), `step ${step}`).toEqual(want);
  });

  it('rewrites the dump schema of the relations it creates, nothing else', () => {
    const rel = new Set(['t', 't_id_seq']);
    expect(requalify("ALTER TABLE ONLY public.t ALTER COLUMN id SET DEFAULT nextval('public.t_id_seq'::regclass)", 'public', 'bt_x', rel)).toBe(
      "ALTER TABLE ONLY \"bt_x\".t ALTER COLUMN id SET DEFAULT nextval('\"bt_x\".t_id_seq'::regclass)",
    );
    expect(requalify('CREATE INDEX i ON public.t USING btree (public.f(s))', 'public', 'bt_x', rel)).toBe('CREATE INDEX i ON "bt_x".t USING btree (public.f(s))');
    expect(requalify("ALTER SEQUENCE public.t_id_seq OWNED BY public.t.id -- public.t", 'public', 'bt_x', rel)).toBe('ALTER SEQUENCE "bt_x".t_id_seq OWNED BY "bt_x".t.id -- public.t');
    expect(requalify("INSERT INTO x VALUES ('public.t')", 'public', 'bt_x', rel)).toBe("INSERT INTO x VALUES ('\"bt_x\".t')");
  });

  it('classifies what a stock dump may hold', () => {
    expect(classifyPgStatement("SELECT pg_catalog.set_config('search_path', '', false)").action).toBe('skip');
    expect(classifyPgStatement('ALTER TABLE public.t OWNER TO app').action).toBe('skip');
    expect(classifyPgStatement('GRANT SELECT ON TABLE public.t TO app').action).toBe('skip');
    expect(classifyPgStatement('CREATE TABLE public.t (id int)').action).toBe('run');
    expect(classifyPgStatement('CREATE VIEW public.v AS SELECT 1').action).toBe('refuse');
    expect(classifyPgStatement('CREATE FUNCTION public.f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql').action).toBe('function');
    expect(classifyPgStatement('CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public').action).toBe('extension');
    expect(classifyPgStatement('CREATE TRIGGER t BEFORE INSERT ON public.t FOR EACH ROW EXECUTE FUNCTION public.f()').action).toBe('refuse');
  });

  it('post-data: keys built as indexes first, foreign keys know their table, index definitions lose the schema', () => {
    expect(keyStatements('ALTER TABLE ONLY "t" ADD CONSTRAINT "t_pkey" PRIMARY KEY (id, "Other")')).toEqual([
      'CREATE UNIQUE INDEX "t_pkey" ON ONLY "t" USING btree (id, "Other")',
      'ALTER TABLE ONLY "t" ADD CONSTRAINT "t_pkey" PRIMARY KEY USING INDEX "t_pkey"',
    ]);
    expect(keyStatements('ALTER TABLE ONLY "t" ADD CONSTRAINT "x" UNIQUE (a) INCLUDE (b)')).toHaveLength(1);
    expect(referencedTable('ALTER TABLE ONLY "c" ADD CONSTRAINT "f" FOREIGN KEY (p) REFERENCES "Parent"(id)')).toBe('Parent');
    expect(referencedTable('… REFERENCES public.comptes(id) ON DELETE CASCADE')).toBe('comptes');
    expect(unqualifiedIndex('CREATE INDEX i ON public.t USING btree (a)', 'public.t', 't')).toBe('CREATE INDEX i ON "t" USING btree (a)');
    const post = [
      { table: 't', kind: 'setval' as const, sql: "SELECT pg_catalog.setval('\"t_id_seq\"', 3, true)" },
      { table: 'we"ird', kind: 'index' as const, sql: "CREATE INDEX i ON \"we\"\"ird\" USING btree ((a || '\n-- post key x'))" },
    ];
    expect(parsePostData(postDataText(post) + '-- billettigue-trailer []\n')).toEqual(post);
  });
});

describe.runIf(pg)('PostgreSQL backup and restore', () => {
  let db: TestDb;
  let file: string;
  let manifest: Manifest;
  const dir = () => path.join(db.dir, 'backups');
  const hashes = (m: Manifest) => Object.fromEntries(m.tables.map((t) => [t.name, [t.rows, t.sha256]]));
  const state = async () => {
    const s = await dbState(db.knex, notRestoreAudit);
    delete s.autoIncrement.audit_log;
    return s;
  };
  async function breakData(k: Knex = db.knex): Promise<void> {
    await k('paiements').where('id', '>', 10).delete();
    await k('comptes').update({ status: 'deleted', updated_at: '2030-01-01 00:00:00' });
  }

  beforeAll(async () => {
    db = await createTestDb('postgres');
    await fillAll(db.knex);
    const r = await runJson<{ file: string }>(['backup', '--dir', dir()], { url: db.url });
    expect(r.code, r.stderr).toBe(0);
    file = r.data.file;
    manifest = readManifest(file)!;
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('interop: our file loads with gunzip | psql, and pg_dump --no-owner restores; the same per-table SHA-256 everywhere', async () => {
    // Our file → psql into an empty database → backed up again: the same hashes.
    const other = await createTestDb('postgres', { migrate: false });
    try {
      stockLoad(other, execFileSync('gunzip', ['-c', file], { maxBuffer: 1 << 28 }));
      const again = await runJson<{ file: string }>(['backup', '--dir', path.join(other.dir, 'b')], { url: other.url });
      expect(again.code, again.stderr).toBe(0);
      expect(hashes(readManifest(again.data.file)!)).toEqual(hashes(manifest));
      // pg_dump --no-owner of that database → billettigue restore: the same hashes again.
      const dump = path.join(other.dir, 'pg_dump.sql');
      writeFileSync(dump, stockDump(other));
      const target = await createTestDb('postgres', { migrate: false });
      try {
        const r = await runJson<{ tables: Array<{ name: string; rows: number; sha256: string; verified: boolean }> }>(['restore', dump, '--yes', '--dir', path.join(target.dir, 'b')], { url: target.url });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toMatch(/no manifest \(a stock pg_dump/);
        expect(Object.fromEntries(r.data.tables.map((t) => [t.name, [t.rows, t.sha256]]))).toEqual(hashes(manifest));
        // The restore's own audit row moves the audit_log counter: everything else is identical.
        const [got, want] = [await dbState(target.knex, notRestoreAudit), await dbState(db.knex)];
        delete got.autoIncrement.audit_log;
        delete want.autoIncrement.audit_log;
        expect(got).toEqual(want);
      } finally {
        await target.drop();
      }
    } finally {
      await other.drop();
    }
  });

  it('a dump needing functions and extensions creates them where missing, and a failed restore removes them again', async () => {
    const dump = path.join(db.dir, 'with-functions.sql');
    writeFileSync(dump, stockDump(db));
    const objects = async (k: Knex) => {
      const f = await rawRows<{ n: string }>(k, "SELECT count(*)::text AS n FROM pg_proc WHERE proname = 'bt_fold'");
      const e = await rawRows<{ n: string }>(k, "SELECT count(*)::text AS n FROM pg_extension WHERE extname = 'unaccent'");
      return [Number(f[0]!.n), Number(e[0]!.n)];
    };
    const ok = await createTestDb('postgres', { migrate: false });
    const bad = await createTestDb('postgres', { migrate: false });
    try {
      const r = await run(['restore', dump, '--yes', '--dir', path.join(ok.dir, 'b')], { url: ok.url });
      expect(r.code, r.stderr).toBe(0);
      expect(await objects(ok.knex)).toEqual(await objects(db.knex));
      // The same dump with a duplicate email: refused, and nothing it created stays.
      writeFileSync(dump, stockDump(db).toString('utf8').split('user2.test@example.fr').join("user1.o'brien@example.fr"));
      const before = await objects(bad.knex);
      const f = await run(['restore', dump, '--yes', '--dir', path.join(bad.dir, 'b')], { url: bad.url });
      expect(f.code, f.stderr).toBe(4);
      expect(await objects(bad.knex)).toEqual(before);
      expect(await helperDatabases(bad)).toEqual([]);
    } finally {
      await ok.drop();
      await bad.drop();
    }
  });

  it('a reader during the swap sees the old tables or the new ones, never a mix, never an error', async () => {
    await breakData();
    const broken = await readPair(db.knex);
    const p = start(['restore', file, '--yes', '--no-safety-backup', '--dir', dir()], {
      url: db.url,
      env: { BILLETTIGUE_TEST_PAUSE_AT: 'restore:swap', BILLETTIGUE_TEST_RESUME_FILE: path.join(db.dir, 'resume-swap') },
    });
    await p.waitFor(/billettigue-paused restore:swap/);
    const reader = await createReaderLoop(db);
    writeFileSync(path.join(db.dir, 'resume-swap'), '');
    const exit = await p.exited;
    const seen = await reader.stop();
    expect(exit.code, p.stderr()).toBe(0);
    const restored = await readPair(db.knex);
    expect(restored).not.toEqual(broken);
    expect(seen.errors).toEqual([]);
    expect(seen.values.size).toBeGreaterThan(0);
    for (const v of seen.values) expect([JSON.stringify(broken), JSON.stringify(restored)]).toContain(v);
    expect(seen.values.has(JSON.stringify(restored))).toBe(true);
  });

  it('kill -9 at every phase leaves the old database or the new one, and what to clean', async () => {
    for (const phase of ['restore:load', 'restore:swap', 'restore:commit', 'restore:swapped']) {
      await breakData();
      const before = await state();
      const p = start(['restore', file, '--yes', '--no-safety-backup', '--dir', dir()], { url: db.url, env: { BILLETTIGUE_TEST_PAUSE_AT: phase } });
      await p.waitFor(new RegExp(`billettigue-paused ${phase}`));
      p.child.kill('SIGKILL');
      await p.exited;
      const after = await state();
      if (phase === 'restore:swapped') expect(after, phase).not.toEqual(before);
      else expect(after, phase).toEqual(before);
      // The staging schema is left over (emptied once swapped); doctor names it, the next command cleans it.
      expect(await helperDatabases(db), phase).toContainEqual(expect.stringMatching(/^bt_restore_/));
      const doctor = await run(['doctor'], { url: db.url, cwd: db.dir });
      expect(doctor.stdout, phase).toMatch(/leftovers\s+.*schema bt_restore_.*restore --clean-leftovers --yes/);
      const clean = await run(['restore', '--clean-leftovers', '--yes', '--dir', dir()], { url: db.url });
      expect(clean.code, clean.stderr).toBe(0);
      expect(await helperDatabases(db), phase).not.toContainEqual(expect.stringMatching(/^bt_restore_/));
    }
    // And a backup killed half-way publishes nothing.
    const p = start(['backup', '--dir', path.join(db.dir, 'killed')], { url: db.url, env: { BILLETTIGUE_TEST_PAUSE_AT: 'backup:data' } });
    await p.waitFor(/billettigue-paused backup:data/);
    p.child.kill('SIGKILL');
    await p.exited;
    expect(readdirSync(path.join(db.dir, 'killed')).filter((f) => !f.startsWith('.'))).toEqual([]);
  });

  it('undo after a restore puts the replaced tables back, and redo', async () => {
    await breakData();
    const broken = await state();
    expect((await run(['restore', file, '--yes', '--no-safety-backup', '--dir', dir()], { url: db.url })).code).toBe(0);
    const restored = await state();
    const undo = await run(['restore', '--undo', '--yes'], { url: db.url });
    expect(undo.code, undo.stderr).toBe(0);
    expect(await state()).toEqual(broken);
    expect((await run(['restore', '--undo', '--yes'], { url: db.url })).code).toBe(0);
    expect(await state()).toEqual(restored);
    // Sequences are past the restored ids: the next plain insert works.
    const [{ id }] = (await db.knex('audit_log').insert({ actor: 'test', action: 'x', created_at: '2030-01-01 00:00:00' }).returning('id')) as [{ id: number }];
    expect(id).toBeGreaterThan(6);
  });

  it('a view on the live tables stops a restore before anything changes (it would keep reading the old tables); deep verify leaves no scratch schema', async () => {
    const deep = await run(['backup', 'verify', file, '--deep'], { url: db.url });
    expect(deep.code, deep.stderr).toBe(0);
    expect(await helperDatabases(db)).not.toContainEqual(expect.stringMatching(/^bt_verify_/));
    await db.knex.raw("CREATE VIEW active_comptes AS SELECT id, email FROM comptes WHERE status = 'active'");
    try {
      await breakData();
      const before = await state();
      const r = await run(['restore', file, '--yes', '--no-safety-backup', '--dir', dir()], { url: db.url });
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr).toMatch(/^error: objects depend on the tables being replaced .*active_comptes \(view\).*drop them first/m);
      expect(await state()).toEqual(before);
      expect(await helperDatabases(db)).not.toContainEqual(expect.stringMatching(/^bt_restore_/));
    } finally {
      await db.knex.raw('DROP VIEW active_comptes');
    }
  });

  it.runIf(testedKinds().includes('mysql'))('refuses a MySQL backup on PostgreSQL and the reverse (exit 2), before anything changes', async () => {
    const my = await createTestDb('mysql');
    try {
      await fillAll(my.knex);
      const mine = await runJson<{ file: string }>(['backup', '--dir', path.join(my.dir, 'b')], { url: my.url });
      expect(mine.code, mine.stderr).toBe(0);
      const before = await state();
      const r = await run(['restore', mine.data.file, '--yes', '--dir', dir()], { url: db.url });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: this is a MySQL\/MariaDB backup and the target .* is PostgreSQL/m);
      expect(await state()).toEqual(before);
      const myBefore = await dbState(my.knex);
      const back = await run(['restore', file, '--yes', '--dir', path.join(my.dir, 'b')], { url: my.url });
      expect(back.code).toBe(2);
      expect(back.stderr).toMatch(/^error: this is a PostgreSQL backup and the target .* is MySQL\/MariaDB/m);
      expect(await dbState(my.knex)).toEqual(myBefore);
      // A stock dump of the other kind too.
      const dump = path.join(my.dir, 'mariadb.sql');
      writeFileSync(dump, stockDump(my));
      expect((await run(['restore', dump, '--yes', '--dir', dir()], { url: db.url })).code).toBe(2);
      expect(await state()).toEqual(before);
    } finally {
      await my.drop();
    }
  });

  it('the tricky strings survive the round trip', async () => {
    const rows = await rawRows<{ v: string }>(db.knex, 'SELECT last_name AS v FROM utilisateurs ORDER BY id');
    expect(rows.map((r) => r.v)).toEqual(TRICKY.map((t) => t.replace(/\0/g, '')).slice(0, rows.length));
  });
});

/** Two figures the data break changes: every reader sees them from one state or the other. */
async function readPair(k: Knex): Promise<[number, number]> {
  const [r] = await rawRows<{ p: string; d: string }>(k, "SELECT (SELECT count(*) FROM paiements) AS p, (SELECT count(*) FROM comptes WHERE status = 'deleted') AS d");
  return [Number(r!.p), Number(r!.d)];
}

async function createReaderLoop(db: TestDb): Promise<{ stop(): Promise<{ values: Set<string>; errors: string[] }> }> {
  const { connect } = await import('../src/db/connection.js');
  const k = await connect(db.target);
  const values = new Set<string>();
  const errors: string[] = [];
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      try {
        values.add(JSON.stringify(await readPair(k)));
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
  })();
  return {
    async stop() {
      stopping = true;
      await loop;
      await k.destroy();
      return { values, errors };
    },
  };
}
