/**
 * Backup and restore against the stock tools, on the same data, in one run (ratios = ours/theirs).
 *
 * MariaDB: ≥ 1,000,000 reservations with their paiements and the rest (≈ 2.6M rows, BENCH_SIZE=full)
 * generated with INSERT … SELECT from the sequence engine, then
 *   backup   `mariadb-dump --single-transaction | gzip -1`  vs  `billettigue backup`     (target ≤ 1.0)
 *   restore  `gunzip < dump.sql.gz | mariadb` into a new db vs `billettigue restore` of our
 *            file into a new db (verified, swapped in; no safety backup: nothing to save) (target ≤ 0.5)
 *   peak memory of both billettigue commands (target < 200 MB; /proc VmHWM)
 * Each side runs BENCH_REPEAT times (default 1), alternating, and the best time counts.
 * SQLite: the same shapes in a file; billettigue backup/restore, with `sqlite3 .dump | gzip -1`
 * and `gunzip | sqlite3` beside them as figures.
 * BENCH_SIZE=small: 1/50 of the rows (seconds).
 */
import { statSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import type { BenchContext, BenchModule, BenchResult } from './types.js';
import { billettigue, timed } from './support/process.js';
import { parseDatabaseUrl } from '../src/db/config.js';
import { connect, createKnex } from '../src/db/connection.js';
import { migrateLatest } from '../src/db/migrator.js';

function sizes(size: BenchContext['size']) {
  const k = size === 'small' ? 50 : 1;
  const n = (x: number) => Math.max(10, Math.floor(x / k));
  return {
    comptes: n(100_000),
    transporteurs: n(5_000),
    admins: n(100),
    trajets: n(100_000),
    reservations: n(1_000_000),
    envois: n(100_000),
    colis: n(150_000),
    zones: n(10_000),
    tokens: n(50_000),
    audit: n(20_000),
  };
}

/** Fills a migrated MariaDB database with SQL only (sequence engine): seconds for millions of rows. */
export async function fillMysql(knex: Knex, size: BenchContext['size']): Promise<void> {
  const s = sizes(size);
  const users = s.comptes - s.transporteurs - s.admins;
  const t0 = "TIMESTAMP('2025-01-01 00:00:00')";
  const statements = [
    'SET SESSION unique_checks = 0, foreign_key_checks = 0',
    `INSERT INTO roles (id,name,description,created_at,updated_at) VALUES (1,'admin','Administrateur',${t0},${t0}),(2,'user','Utilisateur',${t0},${t0}),(3,'transporteur','Transporteur',${t0},${t0})`,
    `INSERT INTO comptes (id,email,password_hash,status,email_verified,phone_verified,last_login,login_attempts,failed_logins,last_failed_login,account_locked,password_changed_at,role_id,created_at,updated_at)
     SELECT seq, CONCAT('user', seq, '@example.fr'), CONCAT('$2b$12$', SHA2(seq, 224)), ELT(1 + seq % 4, 'active','active','inactive','suspended'), seq % 2, seq % 3 = 0,
       IF(seq % 5 = 0, NULL, ${t0} + INTERVAL seq MINUTE), seq % 7, seq % 3, IF(seq % 3 = 0, NULL, ${t0} + INTERVAL seq SECOND), seq % 50 = 0, NULL,
       IF(seq <= ${s.transporteurs}, 3, IF(seq <= ${s.transporteurs + s.admins}, 1, 2)), ${t0} + INTERVAL seq SECOND, ${t0} + INTERVAL seq SECOND FROM seq_1_to_${s.comptes}`,
    `INSERT INTO transporteurs (id, phone_number, company_name, company_type, compte_id, created_at, updated_at)
     SELECT seq, CONCAT('+33 6 ', LPAD(seq, 8, '0')), IF(seq % 4 = 0, NULL, CONCAT('Transports n°', seq)), ELT(1 + seq % 3, 'mixte','passagers','colis'), seq, ${t0}, ${t0} FROM seq_1_to_${s.transporteurs}`,
    `INSERT INTO administrateurs (id, last_name, first_name, compte_id, created_at, updated_at)
     SELECT seq, CONCAT('Admin', seq), 'Élise', ${s.transporteurs} + seq, ${t0}, ${t0} FROM seq_1_to_${s.admins}`,
    `INSERT INTO utilisateurs (id, last_name, first_name, phone_number, compte_id, created_at, updated_at)
     SELECT seq, CONCAT('Dupont-', seq), ELT(1 + seq % 5, 'Jean','Chloé','Zoë','Łukasz','O''Brien'), CONCAT('06', LPAD(seq, 8, '0')), ${s.transporteurs + s.admins} + seq, ${t0}, ${t0} FROM seq_1_to_${users}`,
    `INSERT INTO trajets (id, departure_city, arrival_city, departure_time, price, seats_count, available_seats, status, accepts_packages, max_package_weight, departure_point, arrival_point, transporteur_id, created_at, updated_at)
     SELECT seq, ELT(1 + seq % 6, 'Paris','Lyon','Orléans','Marseille','Nantes','Besançon'), ELT(1 + seq % 5, 'Lille','Bordeaux','Nice','Saint-Étienne','Rennes'),
       ${t0} + INTERVAL seq * 7 MINUTE, (seq % 9000) / 100 + 5, 50, 30, ELT(1 + seq % 4, 'active','cancelled','completed','suspended'), seq % 2, IF(seq % 3 = 0, NULL, (seq % 3000) / 100),
       IF(seq % 2 = 0, NULL, CONCAT('Gare ', seq)), IF(seq % 2 = 1, NULL, CONCAT('Place "centrale" \\\\ ', seq)), 1 + seq % ${s.transporteurs}, ${t0}, ${t0} FROM seq_1_to_${s.trajets}`,
    `INSERT INTO reservations (id, reservation_date, passenger_first_name, passenger_last_name, phone_number, status, seats_reserved, refundable_option, refund_supplement_amount, total_amount, trajet_id, compte_id, created_at, updated_at)
     SELECT seq, ${t0} + INTERVAL seq SECOND, ELT(1 + seq % 5, 'Jean','Chloé','Zoë','Łukasz','O''Brien'), CONCAT('Martin', seq % 1000), CONCAT('07', LPAD(seq, 8, '0')),
       ELT(1 + seq % 5, 'pending','confirmed','cancelled','completed','refunded'), 1 + seq % 2, seq % 2, IF(seq % 2 = 1, 1.50, 0), 30.00 + (seq % 2) * 1.5, 1 + seq % ${s.trajets},
       IF(seq % 10 = 0, NULL, ${s.transporteurs + s.admins + 1} + seq % ${users}), ${t0} + INTERVAL seq SECOND, ${t0} + INTERVAL seq SECOND FROM seq_1_to_${s.reservations}`,
    `INSERT INTO paiements (id, amount, status, payment_date, reservation_id, created_at, updated_at)
     SELECT seq, 30.00 + (seq % 2) * 1.5, ELT(1 + seq % 4, 'pending','completed','failed','refunded'), ${t0} + INTERVAL seq SECOND, seq, ${t0} + INTERVAL seq SECOND, ${t0} + INTERVAL seq SECOND FROM seq_1_to_${s.reservations}`,
    `INSERT INTO envois (id, description, status, expediteur_id, recipient_name, recipient_phone, transporteur_id, compte_id, created_at, updated_at)
     SELECT seq, CONCAT('Envoi de livres n°', seq), ELT(1 + seq % 5, 'pending','accepted','in_transit','delivered','cancelled'), 1 + seq % ${users}, CONCAT('Destinataire ', seq), CONCAT('+33 7 ', seq),
       1 + seq % ${s.transporteurs}, ${s.transporteurs + s.admins + 1} + seq % ${users}, ${t0}, ${t0} FROM seq_1_to_${s.envois}`,
    `INSERT INTO colis (id, description, weight, dimensions, shipping_cost, status, envoi_id, created_at, updated_at)
     SELECT seq, CONCAT('Colis\\ttab\\nligne ', seq), 0.5 + (seq % 200) / 10, IF(seq % 3 = 0, NULL, '30x20x10'), 5.00 + (seq % 200) / 10 * 2, ELT(1 + seq % 5, 'pending','packaged','shipped','delivered','lost'),
       1 + seq % ${s.envois}, ${t0}, ${t0} FROM seq_1_to_${s.colis}`,
    `INSERT INTO zones_desservies (id, city_name, region, zone_type, service_frequency, max_weight_capacity, transporteur_id, created_at, updated_at)
     SELECT seq, CONCAT('Ville ', seq DIV ${s.transporteurs}), IF(seq % 2 = 0, NULL, 'Île-de-France'), ELT(1 + seq % 3, 'pickup_only','delivery_only','both'), ELT(1 + seq % 5, 'daily','weekly','monthly','on_demand', NULL),
       IF(seq % 2 = 0, NULL, 100.25), 1 + seq % ${s.transporteurs}, ${t0}, ${t0} FROM seq_1_to_${s.zones}`,
    `INSERT INTO revoked_tokens (id, token, user_id, revoked_at, expires_at, reason)
     SELECT seq, CONCAT('eyJhbGciOiJIUzI1NiJ9.', TO_BASE64(SHA2(seq, 512))), 1 + seq % ${s.comptes}, ${t0}, ${t0} + INTERVAL 30 DAY, IF(seq % 3 = 0, NULL, 'logout') FROM seq_1_to_${s.tokens}`,
    `INSERT INTO audit_log (id, actor, action, target_type, target_id, reason, before_json, after_json, created_at)
     SELECT seq, 'ops', 'accounts.lock', 'compte', seq, NULL, '{"locked":false}', '{"locked":true}', ${t0} FROM seq_1_to_${s.audit}`,
  ];
  // One pinned connection: the session settings must apply to every INSERT.
  await knex.transaction(async (trx) => {
    for (const sql of statements) await trx.raw(sql);
  });
}

/** The same shapes in SQLite, with recursive CTEs. */
export async function fillSqlite(knex: Knex, size: BenchContext['size']): Promise<void> {
  const s = sizes(size);
  const users = s.comptes - s.transporteurs - s.admins;
  const seq = (n: number) => `WITH RECURSIVE q(seq) AS (SELECT 1 UNION ALL SELECT seq + 1 FROM q WHERE seq < ${n})`;
  const at = (expr: string) => `strftime('%Y-%m-%d %H:%M:%S', 1735689600 + (${expr}), 'unixepoch')`;
  const pick = (list: string[], expr: string) => `CASE (${expr}) % ${list.length} ${list.map((v, i) => `WHEN ${i} THEN ${v === 'NULL' ? 'NULL' : `'${v.replace(/'/g, "''")}'`}`).join(' ')} END`;
  const statements = [
    `INSERT INTO roles (id,name,description,created_at,updated_at) VALUES (1,'admin','Administrateur','2025-01-01 00:00:00','2025-01-01 00:00:00'),(2,'user','Utilisateur','2025-01-01 00:00:00','2025-01-01 00:00:00'),(3,'transporteur','Transporteur','2025-01-01 00:00:00','2025-01-01 00:00:00')`,
    `${seq(s.comptes)} INSERT INTO comptes (id,email,password_hash,status,email_verified,phone_verified,last_login,login_attempts,failed_logins,last_failed_login,account_locked,password_changed_at,role_id,created_at,updated_at)
     SELECT seq, 'user' || seq || '@example.fr', '$2b$12$' || hex(randomblob(20)), ${pick(['active', 'active', 'inactive', 'suspended'], 'seq')}, seq % 2, seq % 3 = 0,
       CASE WHEN seq % 5 = 0 THEN NULL ELSE ${at('seq * 60')} END, seq % 7, seq % 3, CASE WHEN seq % 3 = 0 THEN NULL ELSE ${at('seq')} END, seq % 50 = 0, NULL,
       CASE WHEN seq <= ${s.transporteurs} THEN 3 WHEN seq <= ${s.transporteurs + s.admins} THEN 1 ELSE 2 END, ${at('seq')}, ${at('seq')} FROM q`,
    `${seq(s.transporteurs)} INSERT INTO transporteurs SELECT seq, '+33 6 ' || seq, CASE WHEN seq % 4 = 0 THEN NULL ELSE 'Transports n°' || seq END, ${pick(['mixte', 'passagers', 'colis'], 'seq')}, seq, '2025-01-01 00:00:00', '2025-01-01 00:00:00' FROM q`,
    `${seq(s.admins)} INSERT INTO administrateurs SELECT seq, 'Admin' || seq, 'Élise', ${s.transporteurs} + seq, '2025-01-01 00:00:00', '2025-01-01 00:00:00' FROM q`,
    `${seq(users)} INSERT INTO utilisateurs SELECT seq, 'Dupont-' || seq, ${pick(['Jean', 'Chloé', 'Zoë', 'Łukasz', "O'Brien"], 'seq')}, '06' || seq, ${s.transporteurs + s.admins} + seq, '2025-01-01 00:00:00', '2025-01-01 00:00:00' FROM q`,
    `${seq(s.trajets)} INSERT INTO trajets SELECT seq, ${pick(['Paris', 'Lyon', 'Orléans', 'Marseille', 'Nantes', 'Besançon'], 'seq')}, ${pick(['Lille', 'Bordeaux', 'Nice', 'Saint-Étienne', 'Rennes'], 'seq')},
       ${at('seq * 420')}, (seq % 9000) / 100.0 + 5, 50, 30, ${pick(['active', 'cancelled', 'completed', 'suspended'], 'seq')}, seq % 2, CASE WHEN seq % 3 = 0 THEN NULL ELSE (seq % 3000) / 100.0 END,
       CASE WHEN seq % 2 = 0 THEN NULL ELSE 'Gare ' || seq END, CASE WHEN seq % 2 = 1 THEN NULL ELSE 'Place "centrale" \\ ' || seq END, 1 + seq % ${s.transporteurs}, '2025-01-01 00:00:00', '2025-01-01 00:00:00' FROM q`,
    `${seq(s.reservations)} INSERT INTO reservations SELECT seq, ${at('seq')}, ${pick(['Jean', 'Chloé', 'Zoë', 'Łukasz', "O'Brien"], 'seq')}, 'Martin' || (seq % 1000), '07' || seq,
       ${pick(['pending', 'confirmed', 'cancelled', 'completed', 'refunded'], 'seq')}, 1 + seq % 2, seq % 2, CASE WHEN seq % 2 = 1 THEN 1.5 ELSE 0 END, 30 + (seq % 2) * 1.5, 1 + seq % ${s.trajets},
       CASE WHEN seq % 10 = 0 THEN NULL ELSE ${s.transporteurs + s.admins + 1} + seq % ${users} END, ${at('seq')}, ${at('seq')} FROM q`,
    `${seq(s.reservations)} INSERT INTO paiements SELECT seq, 30 + (seq % 2) * 1.5, ${pick(['pending', 'completed', 'failed', 'refunded'], 'seq')}, ${at('seq')}, seq, ${at('seq')}, ${at('seq')} FROM q`,
    `${seq(s.envois)} INSERT INTO envois SELECT seq, 'Envoi de livres n°' || seq, ${pick(['pending', 'accepted', 'in_transit', 'delivered', 'cancelled'], 'seq')}, 1 + seq % ${users}, 'Destinataire ' || seq, '+33 7 ' || seq, 1 + seq % ${s.transporteurs}, ${s.transporteurs + s.admins + 1} + seq % ${users}, '2025-01-01 00:00:00', '2025-01-01 00:00:00' FROM q`,
    `${seq(s.colis)} INSERT INTO colis SELECT seq, 'Colis' || char(9) || 'tab' || char(10) || 'ligne ' || seq, 0.5 + (seq % 200) / 10.0, CASE WHEN seq % 3 = 0 THEN NULL ELSE '30x20x10' END, 5 + (seq % 200) / 5.0, ${pick(['pending', 'packaged', 'shipped', 'delivered', 'lost'], 'seq')}, 1 + seq % ${s.envois}, '2025-01-01 00:00:00', '2025-01-01 00:00:00' FROM q`,
    `${seq(s.zones)} INSERT INTO zones_desservies SELECT seq, 'Ville ' || (seq / ${s.transporteurs}), CASE WHEN seq % 2 = 0 THEN NULL ELSE 'Île-de-France' END, ${pick(['pickup_only', 'delivery_only', 'both'], 'seq')}, ${pick(['daily', 'weekly', 'monthly', 'on_demand', 'NULL'], 'seq')}, CASE WHEN seq % 2 = 0 THEN NULL ELSE 100.25 END, 1 + seq % ${s.transporteurs}, '2025-01-01 00:00:00', '2025-01-01 00:00:00' FROM q`,
    `${seq(s.tokens)} INSERT INTO revoked_tokens SELECT seq, 'eyJhbGciOiJIUzI1NiJ9.' || hex(randomblob(48)), 1 + seq % ${s.comptes}, '2025-01-01 00:00:00', '2025-01-31 00:00:00', CASE WHEN seq % 3 = 0 THEN NULL ELSE 'logout' END FROM q`,
    `${seq(s.audit)} INSERT INTO audit_log SELECT seq, 'ops', 'accounts.lock', 'compte', seq, NULL, '{"locked":false}', '{"locked":true}', '2025-01-01 00:00:00' FROM q`,
  ];
  await knex.raw('PRAGMA foreign_keys = OFF');
  await knex.transaction(async (trx) => {
    for (const sql of statements) await trx.raw(sql);
  });
  await knex.raw('PRAGMA foreign_keys = ON');
}

async function countRows(knex: Knex, tables: string[]): Promise<number> {
  let n = 0;
  for (const t of tables) n += Number(((await knex(t).count({ n: '*' })) as Array<{ n: number | string }>)[0]!.n);
  return n;
}

const TABLES = ['roles', 'comptes', 'utilisateurs', 'transporteurs', 'administrateurs', 'trajets', 'reservations', 'paiements', 'envois', 'colis', 'zones_desservies', 'revoked_tokens', 'audit_log'];

const bench: BenchModule = {
  title: 'backup/restore vs mariadb-dump | gzip -1 and gunzip | mariadb (and SQLite figures)',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const out: BenchResult[] = [];
    const repeat = Math.max(1, Number(process.env.BENCH_REPEAT ?? 1));
    const server = new URL(ctx.mysqlUrl);
    const host = server.hostname;
    const port = server.port || '3306';
    const user = decodeURIComponent(server.username || 'root');
    const pass = decodeURIComponent(server.password);
    const cli = `-h ${host} -P ${port} -u ${user}${pass ? ` -p'${pass.replace(/'/g, "'\\''")}'` : ''}`;
    const id = `${Date.now().toString(36)}`;
    const src = `bt_bench_bk_${id}`;
    const stockDb = `bt_bench_bk_${id}_stock`;
    const oursDb = `bt_bench_bk_${id}_ours`;
    const admin = await connect(parseDatabaseUrl(ctx.mysqlUrl, '--db'), { noDatabase: true });
    /** Drops this run's databases whose name contains `fragment` (helpers of a restore included). */
    const dropMatching = async (fragment: string) => {
      const dbs = (await admin.raw("SELECT schema_name AS n FROM information_schema.schemata WHERE schema_name LIKE 'bt\\_%bench\\_bk\\_%'")) as [Array<{ n: string }>];
      for (const d of dbs[0]) if (d.n.includes(fragment)) await admin.raw('DROP DATABASE IF EXISTS ??', [d.n]);
    };
    try {
      // ---- data ---------------------------------------------------------------------------
      await admin.raw('CREATE DATABASE ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', [src]);
      const srcUrl = `${ctx.mysqlUrl}/${src}`;
      const knex = await connect(parseDatabaseUrl(srcUrl, '--db'));
      let rows: number;
      try {
        await migrateLatest(knex);
        const t0 = Date.now();
        await fillMysql(knex, ctx.size);
        rows = await countRows(knex, TABLES);
        ctx.log(`MariaDB data: ${rows.toLocaleString('en')} rows in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      } finally {
        await knex.destroy();
      }
      out.push({ name: 'data set (MariaDB)', value: rows, unit: 'rows', note: `${sizes(ctx.size).reservations.toLocaleString('en')} reservations + their paiements + the rest` });

      // ---- backup -------------------------------------------------------------------------
      const stockFile = path.join(ctx.scratchDir, 'stock.sql.gz');
      const dir = path.join(ctx.scratchDir, 'backups');
      let stockBackup = Infinity;
      let oursBackup = Infinity;
      let oursBackupMem = 0;
      let ourFile = '';
      for (let i = 0; i < repeat; i++) {
        const s = await timed('sh', ['-c', `mariadb-dump ${cli} --single-transaction ${src} | gzip -1 > ${stockFile}`]);
        if (s.code !== 0) throw new Error(`mariadb-dump failed: ${s.stderr}`);
        stockBackup = Math.min(stockBackup, s.seconds);
        const o = await billettigue(['backup', '--dir', dir, '--name', `bench-${i}`], srcUrl);
        if (o.code !== 0) throw new Error(`billettigue backup failed: ${o.stderr}`);
        oursBackup = Math.min(oursBackup, o.seconds);
        oursBackupMem = Math.max(oursBackupMem, o.peakMb ?? 0);
        ourFile = path.join(dir, `bench-${i}.sql.gz`);
        ctx.log(`backup #${i + 1}: mariadb-dump | gzip -1 ${s.seconds.toFixed(2)} s, billettigue ${o.seconds.toFixed(2)} s (${(o.peakMb ?? 0).toFixed(0)} MB)`);
      }
      const mb = (f: string) => statSync(f).size / 2 ** 20;
      out.push({ name: 'backup: mariadb-dump --single-transaction | gzip -1', value: stockBackup, unit: 's', note: `${mb(stockFile).toFixed(1)} MiB` });
      out.push({
        name: 'backup: billettigue backup',
        value: oursBackup,
        unit: 's',
        ratio: oursBackup / stockBackup,
        target: '≤ 1.0× mariadb-dump | gzip -1',
        ok: oursBackup / stockBackup <= 1.0,
        note: `${mb(ourFile).toFixed(1)} MiB, manifest with per-table SHA-256`,
      });
      out.push({ name: 'backup: peak memory', value: oursBackupMem, unit: 'MB', target: '< 200 MB', ok: oursBackupMem > 0 && oursBackupMem < 200 });

      // ---- restore ------------------------------------------------------------------------
      let stockRestore = Infinity;
      let oursRestore = Infinity;
      let oursRestoreMem = 0;
      for (let i = 0; i < repeat; i++) {
        await admin.raw('DROP DATABASE IF EXISTS ??', [stockDb]);
        await admin.raw('CREATE DATABASE ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', [stockDb]);
        const s = await timed('sh', ['-c', `gunzip < ${stockFile} | mariadb ${cli} ${stockDb}`]);
        if (s.code !== 0) throw new Error(`stock restore failed: ${s.stderr}`);
        stockRestore = Math.min(stockRestore, s.seconds);
        await dropMatching(`${id}_ours`);
        const o = await billettigue(['restore', ourFile, '--yes', '--no-safety-backup', '--dir', dir], `${ctx.mysqlUrl}/${oursDb}`);
        if (o.code !== 0) throw new Error(`billettigue restore failed: ${o.stderr}`);
        oursRestore = Math.min(oursRestore, o.seconds);
        oursRestoreMem = Math.max(oursRestoreMem, o.peakMb ?? 0);
        ctx.log(`restore #${i + 1}: gunzip | mariadb ${s.seconds.toFixed(2)} s, billettigue ${o.seconds.toFixed(2)} s (${(o.peakMb ?? 0).toFixed(0)} MB)`);
      }
      const restored = await connect(parseDatabaseUrl(`${ctx.mysqlUrl}/${oursDb}`, '--db'));
      // The restore adds its own audit row (restore.run) after the verified swap.
      const restoredRows = await countRows(restored, TABLES)
        .then(async (n) => n - Number(((await restored('audit_log').where('action', 'restore.run').count({ n: '*' })) as Array<{ n: number }>)[0]!.n))
        .finally(() => restored.destroy());
      out.push({ name: 'restore: gunzip < mariadb-dump file | mariadb', value: stockRestore, unit: 's' });
      out.push({
        name: 'restore: billettigue restore',
        value: oursRestore,
        unit: 's',
        ratio: oursRestore / stockRestore,
        target: '≤ 0.5× gunzip | mariadb',
        ok: oursRestore / stockRestore <= 0.5 && restoredRows === rows,
        note: `verified (rows + SHA-256 per table), swapped in; ${restoredRows.toLocaleString('en')} rows`,
      });
      out.push({ name: 'restore: peak memory', value: oursRestoreMem, unit: 'MB', target: '< 200 MB', ok: oursRestoreMem > 0 && oursRestoreMem < 200 });
    } finally {
      await dropMatching(id).catch(() => undefined);
      await admin.destroy();
    }

    // ---- SQLite (figures) ----------------------------------------------------------------
    try {
      out.push(...(await sqliteFigures(ctx)));
    } catch (err) {
      out.push({ name: 'SQLite', value: NaN, unit: '', ok: false, note: `failed: ${(err as Error).message.split('\n').slice(-2).join(' ')}` });
    }
    return out;
  },
};

async function sqliteFigures(ctx: BenchContext): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const file = path.join(ctx.scratchDir, 'bench.sqlite3');
  const target = parseDatabaseUrl(`sqlite:${file}`, '--db');
  const k = await createKnex(target);
  let sqliteRows: number;
  try {
    await migrateLatest(k);
    const t0 = Date.now();
    await fillSqlite(k, ctx.size);
    sqliteRows = await countRows(k, TABLES);
    ctx.log(`SQLite data: ${sqliteRows.toLocaleString('en')} rows in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    await k.destroy();
  }
  const dir = path.join(ctx.scratchDir, 'sqlite-backups');
  const b = await billettigue(['backup', '--dir', dir, '--name', 'sqlite'], `sqlite:${file}`);
  if (b.code !== 0) throw new Error(`sqlite backup failed: ${b.stderr}`);
  const restoredFile = path.join(ctx.scratchDir, 'restored.sqlite3');
  const r = await billettigue(['restore', path.join(dir, 'sqlite.sql.gz'), '--yes', '--no-safety-backup', '--dir', dir], `sqlite:${restoredFile}`);
  if (r.code !== 0) throw new Error(`sqlite restore failed: ${r.stderr}`);
  const dump = path.join(ctx.scratchDir, 'sqlite-dump.sql.gz');
  const sd = await timed('sh', ['-c', `sqlite3 ${file} .dump | gzip -1 > ${dump}`]);
  const sr = existsSync(dump) ? await timed('sh', ['-c', `gunzip < ${dump} | sqlite3 ${path.join(ctx.scratchDir, 'stock.sqlite3')}`]) : null;
  out.push({ name: 'SQLite: billettigue backup', value: b.seconds, unit: 's', note: `${sqliteRows.toLocaleString('en')} rows; peak ${(b.peakMb ?? 0).toFixed(0)} MB; sqlite3 .dump | gzip -1: ${sd.code === 0 ? `${sd.seconds.toFixed(2)} s` : 'n/a'}` });
  out.push({ name: 'SQLite: billettigue restore', value: r.seconds, unit: 's', note: `verified, renamed in; peak ${(r.peakMb ?? 0).toFixed(0)} MB; gunzip | sqlite3: ${sr && sr.code === 0 ? `${sr.seconds.toFixed(2)} s` : 'n/a'}` });
  return out;
}

export default bench;
