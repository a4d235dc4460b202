/**
 * Operations (issue 8) on a MariaDB database of the "medium" size (≈ 1M rows): `stats` under 1 s,
 * `maintenance check` fast (and clean: the generated data follows docs/rules.md), and archive
 * throughput with `check` still clean afterwards.
 *
 * The data is generated inside MariaDB with the sequence engine (INSERT … SELECT FROM seq_1_to_N),
 * consistent with the rules: one profile per account by role, seats = seats_count − live seats,
 * (reservation, paiement) pairs and amounts by money.ts's formulas (10% supplement half-up,
 * colis 5.00 + 1.50/kg), envoi/colis statuses, nothing live on completed/cancelled trajets.
 *   BENCH_SIZE=small: 1/50 of the rows (seconds).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import { median } from './support/process.js';
import type { BenchModule, BenchResult } from './types.js';
import { connect } from '../src/db/connection.js';
import { parseDatabaseUrl } from '../src/db/config.js';
import { migrateLatest } from '../src/db/migrator.js';
import { seedRoles } from '../seeds/default.js';
import { collectStats } from '../src/domain/stats.js';
import { checkInvariants } from '../src/domain/invariants.js';
import { archiveOlderThan, parseCutoff, planArchive } from '../src/domain/archive.js';
import { DEFAULT_SETTINGS } from '../src/domain/settings.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/billettigue');

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}

function spawnMs(args: string[], env: NodeJS.ProcessEnv, okCodes = [0]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (!okCodes.includes(r.status ?? -1)) throw new Error(`billettigue ${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

export interface Sizes {
  admins: number;
  transporteurs: number;
  users: number;
  trajets: number;
  /** Reservations per trajet (≤ 16 keeps live seats ≤ 18 < the 20-seat minimum generated). */
  perTrajet: number;
  envois: number;
  tokens: number;
}

/** Generates the platform with set-based INSERT … SELECT; returns rows per table. */
export async function generate(k: Knex, z: Sizes, log: (m: string) => void): Promise<Record<string, number>> {
  const role = async (name: string) => ((await k('roles').where({ name }).first('id')) as { id: number }).id;
  const [rAdmin, rUser, rTransporteur] = [await role('admin'), await role('user'), await role('transporteur')];
  const A = z.admins;
  const T = z.transporteurs;
  const U = z.users;
  const N = A + T + U;
  const T3 = Math.floor(T / 3);
  const NR = z.trajets * z.perTrajet;
  const step = async (label: string, sql: string) => {
    const { ms } = await timed(() => k.raw(sql));
    log(`  ${label}: ${(ms / 1000).toFixed(1)} s`);
  };
  const now = 'UTC_TIMESTAMP()';

  await step(
    'comptes',
    `insert into comptes (id, email, password_hash, status, email_verified, phone_verified, login_attempts, failed_logins,
       account_locked, role_id, created_at, updated_at)
     select seq, concat('c', seq, '@bench.example'), '$2b$04$benchbenchbenchbenchbeu7Qd0b3cK1m8vQm2yU8F3mJ1ZsZ1aS',
       case when seq % 50 = 0 then 'suspended' when seq % 77 = 0 then 'inactive' else 'active' end,
       seq % 7 <> 0, seq % 5 <> 0, seq % 11, case when seq % 97 = 0 then 5 else 0 end, seq % 97 = 0,
       case when seq <= ${A} then ${rAdmin} when seq <= ${A + T} then ${rTransporteur} else ${rUser} end,
       ${now} - interval (seq % 1000) day, ${now} - interval (seq % 1000) day
     from seq_1_to_${N}`,
  );
  await step(
    'profiles',
    `insert into administrateurs (id, last_name, first_name, compte_id, created_at, updated_at)
     select seq, concat('Admin', seq), 'Ada', seq, ${now}, ${now} from seq_1_to_${A}`,
  );
  await k.raw(
    `insert into transporteurs (id, phone_number, company_name, company_type, compte_id, created_at, updated_at)
     select seq, concat('+336', lpad(seq, 8, '0')), concat('Transports ', seq),
       case seq % 3 when 0 then 'mixte' when 1 then 'passagers' else 'colis' end, ${A} + seq, ${now}, ${now}
     from seq_1_to_${T}`,
  );
  await k.raw(
    `insert into utilisateurs (id, last_name, first_name, phone_number, compte_id, created_at, updated_at)
     select seq, concat('Nom', seq), concat('Prenom', seq), concat('+337', lpad(seq, 8, '0')), ${A + T} + seq, ${now}, ${now}
     from seq_1_to_${U}`,
  );
  // 80% of the carriers serve two cities; the rest none (the stats list them).
  const Z = Math.floor(T * 0.8);
  await step(
    'zones',
    `insert into zones_desservies (city_name, region, zone_type, service_frequency, transporteur_id, created_at, updated_at)
     select concat('Ville-', seq), 'Region', 'both', 'weekly', (seq - 1) div 2 + 1, ${now}, ${now} from seq_1_to_${2 * Z}`,
  );
  // Trajets from 3 years ago to 60 days ahead; past ones completed (10% cancelled), future ones
  // active (5% suspended, 5% cancelled). Carriers with id % 3 = 1 carry passengers.
  const spanMin = 1155 * 24 * 60;
  await step(
    'trajets',
    `insert into trajets (id, departure_city, arrival_city, departure_time, price, seats_count, available_seats, status,
       accepts_packages, transporteur_id, created_at, updated_at)
     select seq, concat('Ville-', seq % 40), concat('Ville-', (seq + 7) % 40), d.dep,
       cast(5 + (seq % 80) + (seq % 100) / 100 as decimal(10,2)), 20 + seq % 31, 20 + seq % 31,
       case when d.dep < ${now} then (case when seq % 10 = 0 then 'cancelled' else 'completed' end)
            when seq % 20 = 0 then 'suspended' when seq % 10 = 0 then 'cancelled' else 'active' end,
       seq % 2, 3 * (seq % ${T3}) + 1, d.dep - interval 30 day, d.dep - interval 30 day
     from (select seq, ${now} - interval 1095 day + interval (seq * ${spanMin} div ${z.trajets}) minute as dep from seq_1_to_${z.trajets}) d`,
  );
  // Reservations: position p = (id − 1) % perTrajet decides the status, by the trajet's status.
  const status = `case t.status
      when 'completed' then (case when p.pos < 12 then 'completed' when p.pos = 12 then 'cancelled'
                                  when p.pos = 13 then (case when p.refundable then 'refunded' else 'cancelled' end)
                                  when p.pos = 14 then 'refunded' else 'cancelled' end)
      when 'cancelled' then (case when p.pos % 2 = 0 then 'refunded' else 'cancelled' end)
      else (case when p.pos < 6 then 'confirmed' when p.pos < 10 then 'pending' when p.pos < 12 then 'cancelled'
                 when p.pos = 12 then (case when p.refundable then 'refunded' else 'cancelled' end) else 'confirmed' end)
    end`;
  await step(
    'reservations',
    `insert into reservations (id, reservation_date, passenger_first_name, passenger_last_name, phone_number, status,
       seats_reserved, refundable_option, refund_supplement_amount, total_amount, trajet_id, compte_id, created_at, updated_at)
     select p.seq, t.departure_time - interval (1 + p.pos) day, 'Pass', concat('Agere', p.seq), '+33612345678', ${status},
       p.seats, p.refundable,
       case when p.refundable then round(t.price * p.seats * 0.10, 2) else 0 end,
       t.price * p.seats + case when p.refundable then round(t.price * p.seats * 0.10, 2) else 0 end,
       t.id, case when p.seq % 10 = 0 then null else ${A + T} + 1 + p.seq % ${U} end,
       t.departure_time - interval (1 + p.pos) day, t.departure_time - interval (1 + p.pos) day
     from (select seq, (seq - 1) div ${z.perTrajet} + 1 as trajet_id, (seq - 1) % ${z.perTrajet} as pos,
                  1 + ((seq - 1) % 8 = 0) as seats, seq % 3 = 0 as refundable from seq_1_to_${NR}) p
     join trajets t on t.id = p.trajet_id`,
  );
  // The money-kept cancellations: cancelled at position 12 (future) or 13 (completed) without the option.
  await step(
    'paiements',
    `insert into paiements (id, amount, status, payment_date, reservation_id, created_at, updated_at)
     select r.id, r.total_amount,
       case r.status when 'pending' then 'pending' when 'confirmed' then 'completed' when 'completed' then 'completed'
         when 'refunded' then 'refunded'
         else (case when r.refundable_option = 0 and ((t.status = 'completed' and (r.id - 1) % ${z.perTrajet} = 13)
                  or (t.status in ('active', 'suspended') and (r.id - 1) % ${z.perTrajet} = 12)) then 'completed' else 'failed' end)
       end,
       r.reservation_date, r.id, r.reservation_date, r.reservation_date + interval 1 day
     from reservations r join trajets t on t.id = r.trajet_id`,
  );
  await step(
    'available_seats',
    `update trajets t join (select trajet_id, sum(seats_reserved) as live from reservations where status in ('pending', 'confirmed') group by trajet_id) x
       on x.trajet_id = t.id set t.available_seats = t.seats_count - x.live`,
  );
  await step(
    'envois',
    `insert into envois (id, description, status, expediteur_id, recipient_name, recipient_phone, transporteur_id, compte_id, created_at, updated_at)
     select seq, concat('Envoi ', seq),
       case seq % 10 when 4 then 'cancelled' when 5 then 'in_transit' when 6 then 'accepted' when 7 then 'pending' else 'delivered' end,
       1 + seq % ${U}, concat('Dest ', seq), '+33699999999', 3 * (seq % ${T3}) + 3, ${A + T} + 1 + seq % ${U},
       ${now} - interval (2 + seq % 1100) day, ${now} - interval (seq % 1100) day
     from seq_1_to_${z.envois}`,
  );
  await step(
    'colis',
    `insert into colis (description, weight, dimensions, shipping_cost, status, envoi_id, created_at, updated_at)
     select concat('Colis ', c.seq), c.w, '30x20x10', 5.00 + round(c.w * 1.50, 2),
       case e.status when 'pending' then 'pending' when 'cancelled' then 'pending'
         when 'accepted' then (case when c.j = 2 then 'lost' else 'packaged' end)
         when 'in_transit' then (case when c.j = 2 then 'lost' else 'shipped' end)
         else (case when c.seq % 17 = 0 then 'lost' else 'delivered' end) end,
       e.id, e.created_at, e.updated_at
     from (select seq, (seq - 1) div 3 + 1 as envoi_id, (seq - 1) % 3 as j, cast((1 + seq % 2000) / 100 as decimal(8,2)) as w
           from seq_1_to_${z.envois * 3}) c
     join envois e on e.id = c.envoi_id
     where c.j < 2 + e.id % 2`,
  );
  await step(
    'revoked_tokens',
    `insert into revoked_tokens (token, user_id, revoked_at, expires_at, reason)
     select concat('tok-', seq), ${A + T} + 1 + seq % ${U},
       ${now} - interval (seq % 60) day, ${now} + interval (cast(seq % 60 as signed) - 30) day, 'logout'
     from seq_1_to_${z.tokens}`,
  );
  await k.raw('analyze table comptes, utilisateurs, transporteurs, administrateurs, trajets, reservations, paiements, envois, colis, zones_desservies, revoked_tokens');
  const counts: Record<string, number> = {};
  for (const t of ['comptes', 'utilisateurs', 'transporteurs', 'administrateurs', 'zones_desservies', 'trajets', 'reservations', 'paiements', 'envois', 'colis', 'revoked_tokens']) {
    counts[t] = Number(((await k(t).count({ n: '*' }).first()) as { n: number }).n);
  }
  return counts;
}

const bench: BenchModule = {
  title: 'operations: stats, maintenance check, archive (MariaDB, medium ≈ 1M rows)',
  async run(ctx) {
    const small = ctx.size === 'small';
    const f = small ? 50 : 1;
    const sizes: Sizes = {
      admins: 20,
      transporteurs: Math.max(30, Math.floor(1000 / f)),
      users: Math.floor(30_000 / f),
      trajets: Math.floor(25_000 / f),
      perTrajet: 16,
      envois: Math.floor(40_000 / f),
      tokens: Math.floor(20_000 / f),
    };
    const dbName = `bt_bench_ops_${process.pid}`;
    const url = `${ctx.mysqlUrl}/${dbName}`;
    const admin = await connect(parseDatabaseUrl(ctx.mysqlUrl, '--db'), { noDatabase: true });
    await admin.raw('CREATE DATABASE ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', [dbName]);
    const k = await connect(parseDatabaseUrl(url, '--db'));
    const results: BenchResult[] = [];
    try {
      await migrateLatest(k);
      await k.transaction((trx) => seedRoles(trx));
      ctx.log(`generating (${small ? 'small' : 'medium'})…`);
      const gen = await timed(() => generate(k, sizes, ctx.log));
      const rows = Object.values(gen.value).reduce((a, b) => a + b, 0);
      ctx.log(`generated ${rows.toLocaleString('en')} rows in ${(gen.ms / 1000).toFixed(1)} s: ${JSON.stringify(gen.value)}`);
      results.push({ name: 'dataset (rows, generated in SQL)', value: rows, unit: 'rows', note: `${(gen.ms / 1000).toFixed(1)} s` });

      const env = { ...process.env, NO_COLOR: '1', DATABASE_URL: url };
      // stats: the queries (median of 5) and the whole command as a user runs it (median of 3).
      await collectStats(k);
      const q: number[] = [];
      for (let i = 0; i < 5; i++) q.push((await timed(() => collectStats(k))).ms);
      const statsQuery = median(q);
      spawnMs(['stats', '--json'], env);
      const w: number[] = [];
      for (let i = 0; i < 3; i++) w.push(spawnMs(['stats', '--json'], env));
      const statsWall = median(w);
      ctx.log(`stats: queries ${statsQuery.toFixed(0)} ms, command ${statsWall.toFixed(0)} ms`);
      results.push({ name: 'stats (aggregate queries)', value: statsQuery, unit: 'ms' });
      results.push({ name: 'billettigue stats --json (whole command)', value: statsWall, unit: 'ms', target: '< 1000 ms', ok: statsWall < 1000 });

      // check: must be clean on data that follows the rules, and fast.
      const chk = await timed(() => checkInvariants(k, DEFAULT_SETTINGS));
      const failing = chk.value.rules.filter((r) => r.count > 0).map((r) => `${r.code}(${r.count})`);
      ctx.log(`check: ${chk.ms.toFixed(0)} ms, ${chk.value.rules.length} rules, ${failing.length ? 'VIOLATIONS ' + failing.join(' ') : 'clean'}`);
      const checkWall = spawnMs(['maintenance', 'check'], env, [0, 6]);
      results.push({
        name: 'maintenance check (all rules, queries)',
        value: chk.ms,
        unit: 'ms',
        target: '< 5000 ms and clean',
        ok: chk.ms < 5000 && chk.value.clean,
        note: chk.value.clean ? `clean, ${chk.value.rules.length} rules` : failing.join(' '),
      });
      results.push({ name: 'billettigue maintenance check (whole command)', value: checkWall, unit: 'ms' });

      // archive: everything finished older than 18 months, batches of 1000; check clean after.
      const cutoff = parseCutoff('18mo');
      const plan = await planArchive(k, cutoff);
      const arc = await timed(() => archiveOlderThan(k, { cutoff, batchSize: 1000, actor: 'bench' }));
      const moved = arc.value.reservations + arc.value.paiements + arc.value.envois + arc.value.colis;
      ctx.log(`archive: ${JSON.stringify(arc.value)} in ${(arc.ms / 1000).toFixed(1)} s (planned ${JSON.stringify(plan)})`);
      results.push({
        name: 'maintenance archive --older-than 18mo (batches of 1000)',
        value: moved / (arc.ms / 1000),
        unit: 'rows/s',
        note: `${moved.toLocaleString('en')} rows moved in ${(arc.ms / 1000).toFixed(1)} s, ${arc.value.batches} batches`,
      });
      const after = await timed(() => checkInvariants(k, DEFAULT_SETTINGS));
      results.push({
        name: 'maintenance check after archive',
        value: after.ms,
        unit: 'ms',
        target: 'clean',
        ok: after.value.clean,
        note: after.value.clean ? 'clean' : after.value.rules.filter((r) => r.count > 0).map((r) => `${r.code}(${r.count})`).join(' '),
      });
      return results;
    } finally {
      await k.destroy();
      await admin.raw('DROP DATABASE IF EXISTS ??', [dbName]);
      await admin.destroy();
    }
  },
};

export default bench;
