/**
 * A small, fully consistent platform planted row by row with knex (no domain code), shared by the
 * stats, invariants and archive tests. Every figure the tests expect can be read off this file.
 * Amounts use money.ts with the default settings (refund 10%, colis 5.00 + 1.50/kg).
 */
import type { Knex } from 'knex';
import { centsToDecimal, toDbTime } from '../src/db/values.js';
import { colisShippingCents, refundSupplementCents, reservationTotalCents } from '../src/domain/money.js';
import { DEFAULT_SETTINGS } from '../src/domain/settings.js';
import { insertId } from '../src/db/dialect.js';

const DAY = 86_400_000;

export interface Planted {
  now: Date;
  ids: Record<string, number>;
  /** Reservations expected to be archived with --older-than 18mo (ids), and envois. */
  oldReservations: number[];
  oldEnvois: number[];
}

export async function plantPlatform(knex: Knex, now = new Date()): Promise<Planted> {
  const at = (offsetDays: number) => toDbTime(new Date(now.getTime() + offsetDays * DAY));
  const ids: Record<string, number> = {};
  const insert = async (table: string, name: string, row: Record<string, unknown>) => {
    const id = await insertId(knex(table).insert(row));
    ids[name] = Number(id);
    return Number(id);
  };
  const role = async (name: string) => ((await knex('roles').where({ name }).first('id')) as { id: number }).id;
  const [admin, user, transporteur] = [await role('admin'), await role('user'), await role('transporteur')];
  await knex('roles').insert({ name: 'support', description: 'custom role', created_at: at(-400), updated_at: at(-400) });
  const support = await role('support');

  const compte = (email: string, roleId: number, extra: Record<string, unknown> = {}) => ({
    email,
    password_hash: '$2b$04$abcdefghijklmnopqrstuuJ0m7tGxN2rF9bX7yFQx5Q9bJ2b1dWmC',
    status: 'active',
    email_verified: 1,
    phone_verified: 1,
    login_attempts: 0,
    failed_logins: 0,
    account_locked: 0,
    role_id: roleId,
    created_at: at(-400),
    updated_at: at(-400),
    ...extra,
  });
  const ts = (d: number) => ({ created_at: at(d), updated_at: at(d) });

  // Accounts: 1 admin, 2 carriers, 4 users (one locked+unverified+new, one suspended, one new), 1 support.
  await insert('comptes', 'admin', compte('admin@example.fr', admin));
  await insert('administrateurs', 'adminProfile', { compte_id: ids.admin, first_name: 'Ada', last_name: 'Admin', ...ts(-400) });
  await insert('comptes', 'carrier1', compte('carrier1@example.fr', transporteur));
  await insert('transporteurs', 'carrier1T', { compte_id: ids.carrier1, phone_number: '+33600000001', company_name: 'Trans Un', company_type: 'mixte', ...ts(-400) });
  await insert('comptes', 'carrier2', compte('carrier2@example.fr', transporteur, { email_verified: 0 }));
  await insert('transporteurs', 'carrier2T', { compte_id: ids.carrier2, phone_number: '+33600000002', company_name: null, company_type: 'colis', ...ts(-400) });
  await insert('comptes', 'user1', compte('user1@example.fr', user));
  await insert('utilisateurs', 'user1U', { compte_id: ids.user1, first_name: 'Jean', last_name: 'Dupont', phone_number: '+33611111111', ...ts(-400) });
  await insert('comptes', 'user2', compte('user2@example.fr', user, { account_locked: 1, failed_logins: 5, login_attempts: 9, email_verified: 0, phone_verified: 0, ...ts(-2) }));
  await insert('utilisateurs', 'user2U', { compte_id: ids.user2, first_name: 'Marie', last_name: 'Curie', phone_number: '+33622222222', ...ts(-2) });
  await insert('comptes', 'user3', compte('user3@example.fr', user, { status: 'suspended' }));
  await insert('utilisateurs', 'user3U', { compte_id: ids.user3, first_name: 'Paul', last_name: 'Martin', phone_number: '+33633333333', ...ts(-400) });
  await insert('comptes', 'user4', compte('user4@example.fr', user, { phone_verified: 0, ...ts(-10) }));
  await insert('utilisateurs', 'user4U', { compte_id: ids.user4, first_name: 'Lea', last_name: 'Petit', phone_number: '+33644444444', ...ts(-10) });
  await insert('comptes', 'support1', compte('support1@example.fr', support, { ...ts(-1) }));
  await insert('utilisateurs', 'support1U', { compte_id: ids.support1, first_name: 'Sam', last_name: 'Port', phone_number: '+33655555555', ...ts(-1) });

  // Zones: carrier1 serves two cities; carrier2 none.
  await insert('zones_desservies', 'zone1', { city_name: 'Paris', region: 'IDF', zone_type: 'both', service_frequency: 'daily', transporteur_id: ids.carrier1T, ...ts(-300) });
  await insert('zones_desservies', 'zone2', { city_name: 'Lyon', region: null, zone_type: 'pickup_only', service_frequency: null, max_weight_capacity: 30, transporteur_id: ids.carrier1T, ...ts(-300) });

  // Trajets (carrier1). seats/available follow the reservations planted below.
  const trajet = (name: string, o: { days: number; price: string; seats: number; available: number; status: string }) =>
    insert('trajets', name, {
      departure_city: 'Paris',
      arrival_city: 'Lyon',
      departure_time: at(o.days),
      price: o.price,
      seats_count: o.seats,
      available_seats: o.available,
      status: o.status,
      accepts_packages: 1,
      transporteur_id: ids.carrier1T,
      ...ts(Math.min(o.days, 0) - 30),
    });
  await trajet('tOldCompleted', { days: -1000, price: '20.00', seats: 10, available: 10, status: 'completed' });
  await trajet('tOldCancelled', { days: -700, price: '15.50', seats: 8, available: 8, status: 'cancelled' });
  await trajet('tSoon', { days: 3, price: '12.35', seats: 5, available: 2, status: 'active' });
  await trajet('tLater', { days: 20, price: '0.00', seats: 50, available: 50, status: 'active' });
  await trajet('tRecentCompleted', { days: -10, price: '7.99', seats: 4, available: 4, status: 'completed' });
  await trajet('tSuspended', { days: 2, price: '9.00', seats: 4, available: 0, status: 'suspended' });
  await trajet('tTomorrow', { days: 1, price: '30.00', seats: 3, available: 3, status: 'active' });

  const rate = DEFAULT_SETTINGS.refundRateBp;
  const reservation = async (
    name: string,
    o: { trajet: string; price: number; seats: number; refundable: boolean; status: string; paiement: string; compte?: string | null; days: number; paidDays?: number },
  ) => {
    const supplement = refundSupplementCents(o.price, o.seats, o.refundable, rate);
    const total = reservationTotalCents(o.price, o.seats, supplement);
    await insert('reservations', name, {
      reservation_date: at(o.days),
      passenger_first_name: 'Pass',
      passenger_last_name: name,
      phone_number: '+33612345678',
      status: o.status,
      seats_reserved: o.seats,
      refundable_option: o.refundable ? 1 : 0,
      refund_supplement_amount: centsToDecimal(supplement),
      total_amount: centsToDecimal(total),
      trajet_id: ids[o.trajet],
      compte_id: o.compte === null ? null : ids[o.compte ?? 'user1'],
      ...ts(o.days),
    });
    await insert('paiements', `${name}P`, {
      amount: centsToDecimal(total),
      status: o.paiement,
      payment_date: at(o.days),
      reservation_id: ids[name],
      created_at: at(o.days),
      updated_at: at(o.paidDays ?? o.days),
    });
  };
  // Old completed trajet (20.00): every final pair.
  await reservation('rOldCompleted', { trajet: 'tOldCompleted', price: 2000, seats: 2, refundable: true, status: 'completed', paiement: 'completed', days: -1010 });
  await reservation('rOldCancelledFailed', { trajet: 'tOldCompleted', price: 2000, seats: 1, refundable: false, status: 'cancelled', paiement: 'failed', days: -1009 });
  await reservation('rOldRefunded', { trajet: 'tOldCompleted', price: 2000, seats: 1, refundable: true, status: 'refunded', paiement: 'refunded', days: -1008 });
  await reservation('rOldKept', { trajet: 'tOldCompleted', price: 2000, seats: 1, refundable: false, status: 'cancelled', paiement: 'completed', compte: null, days: -1007 });
  // Old cancelled trajet (15.50): refunded (whatever the option) and cancelled before payment.
  await reservation('rOldTrajetCancelled', { trajet: 'tOldCancelled', price: 1550, seats: 3, refundable: false, status: 'refunded', paiement: 'refunded', days: -710 });
  await reservation('rOldTrajetPending', { trajet: 'tOldCancelled', price: 1550, seats: 1, refundable: false, status: 'cancelled', paiement: 'failed', days: -709 });
  // Upcoming (12.35 × seats; 5 seats, 3 held → 2 available).
  await reservation('rSoonPending', { trajet: 'tSoon', price: 1235, seats: 2, refundable: false, status: 'pending', paiement: 'pending', compte: 'user4', days: -1 });
  await reservation('rSoonConfirmed', { trajet: 'tSoon', price: 1235, seats: 1, refundable: true, status: 'confirmed', paiement: 'completed', days: -2 });
  await reservation('rSoonCancelled', { trajet: 'tSoon', price: 1235, seats: 2, refundable: false, status: 'cancelled', paiement: 'failed', days: -3 });
  await reservation('rSoonRefunded', { trajet: 'tSoon', price: 1235, seats: 1, refundable: true, status: 'refunded', paiement: 'refunded', days: -20, paidDays: -1 });
  // Recently completed trajet: stays live when archiving 18 months back.
  await reservation('rRecent', { trajet: 'tRecentCompleted', price: 799, seats: 3, refundable: true, status: 'completed', paiement: 'completed', days: -15 });
  // Suspended trajet, full: a guest holds every seat.
  await reservation('rSuspended', { trajet: 'tSuspended', price: 900, seats: 4, refundable: false, status: 'confirmed', paiement: 'completed', compte: null, days: -5 });

  // Envois (user1 → carrier2) with colis in every allowed (envoi, colis) combination.
  const envoi = (name: string, status: string, days: number) =>
    insert('envois', name, {
      description: `envoi ${name}`,
      status,
      expediteur_id: ids.user1U,
      recipient_name: 'Dest',
      recipient_phone: '+33699999999',
      transporteur_id: ids.carrier2T,
      compte_id: ids.user1,
      created_at: at(days - 5),
      updated_at: at(days),
    });
  const colis = (name: string, envoiName: string, weight: number, status: string, days: number) =>
    insert('colis', name, {
      description: `colis ${name}`,
      weight: centsToDecimal(weight),
      dimensions: '30x20x10',
      shipping_cost: centsToDecimal(colisShippingCents(weight, DEFAULT_SETTINGS.colisBaseCents, DEFAULT_SETTINGS.colisPerKgCents)),
      status,
      envoi_id: ids[envoiName],
      ...ts(days),
    });
  await envoi('eOldDelivered', 'delivered', -800);
  await colis('cOldDelivered', 'eOldDelivered', 250, 'delivered', -800);
  await colis('cOldLost', 'eOldDelivered', 100, 'lost', -800);
  await envoi('eOldCancelled', 'cancelled', -600);
  await colis('cOldPending', 'eOldCancelled', 33, 'pending', -600);
  await envoi('eTransit', 'in_transit', -1);
  await colis('cShipped', 'eTransit', 1999, 'shipped', -1);
  await colis('cTransitLost', 'eTransit', 5, 'lost', -1);
  await envoi('ePending', 'pending', 0);
  await colis('cPending', 'ePending', 1000, 'pending', 0);
  await envoi('eRecentDelivered', 'delivered', -30);
  await colis('cRecentDelivered', 'eRecentDelivered', 75, 'delivered', -30);
  await envoi('eAccepted', 'accepted', -2);
  await colis('cPackaged', 'eAccepted', 420, 'packaged', -2);

  // Revoked tokens: 2 expired, 1 active.
  const token = (name: string, expiresDays: number) =>
    insert('revoked_tokens', name, {
      token: `token-${name}`,
      user_id: ids.user1,
      revoked_at: at(-50),
      expires_at: at(expiresDays),
      reason: 'logout',
    });
  await token('tokExpired1', -40);
  await token('tokExpired2', -1);
  await token('tokActive', 5);

  return {
    now,
    ids,
    oldReservations: ['rOldCompleted', 'rOldCancelledFailed', 'rOldRefunded', 'rOldKept', 'rOldTrajetCancelled', 'rOldTrajetPending'].map((n) => ids[n]!),
    oldEnvois: ['eOldDelivered', 'eOldCancelled'].map((n) => ids[n]!),
  };
}
