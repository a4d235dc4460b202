/**
 * trajets, reservations, paiements (seed §6–8).
 * - trajets.transporteur_id RESTRICT: a carrier with trips cannot be removed by accident.
 * - reservations.trajet_id / compte_id RESTRICT: bookings are money; they are never lost silently.
 *   compte_id is NULL for guest reservations.
 * - paiements.reservation_id CASCADE + UNIQUE: exactly one paiement per reservation, part of it.
 * CHECKs: price >= 0, 1 <= seats_count <= 50, 0 <= available_seats <= seats_count, statuses.
 */
import type { Knex } from 'knex';
import { check, checkIn, createTable, folded, foreignId, timestamps } from '../src/db/migration-helpers.js';
import { PAIEMENT_STATUSES, RESERVATION_STATUSES, TRAJET_STATUSES } from '../src/db/schema.js';

export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'trajets', (t) => {
    t.increments('id');
    t.string('departure_city', 100).notNullable();
    t.string('arrival_city', 100).notNullable();
    t.datetime('departure_time').notNullable();
    t.decimal('price', 10, 2).notNullable();
    t.integer('seats_count').notNullable().defaultTo(1);
    t.integer('available_seats').notNullable().defaultTo(1);
    t.string('status', 20).notNullable().defaultTo('active');
    t.boolean('accepts_packages').notNullable().defaultTo(true);
    t.decimal('max_package_weight', 8, 2).nullable();
    t.string('departure_point', 200).nullable();
    t.string('arrival_point', 200).nullable();
    foreignId(t, 'transporteur_id', 'transporteurs', 'RESTRICT');
    timestamps(knex, t);
    check(t, 'trajets', 'price', '?? >= 0', ['price']);
    check(t, 'trajets', 'seats_count', '?? between 1 and 50', ['seats_count']);
    check(t, 'trajets', 'available_seats', '?? >= 0 and ?? <= ??', ['available_seats', 'available_seats', 'seats_count']);
    check(t, 'trajets', 'max_package_weight', '?? is null or ?? >= 0', ['max_package_weight', 'max_package_weight']);
    checkIn(t, 'trajets', 'status', TRAJET_STATUSES);
    // `trajets list --from X --to Y --date D`: equality on both (folded) cities, range on the time.
    t.index([folded(knex, 'departure_city'), folded(knex, 'arrival_city'), 'departure_time'] as string[], 'trajets_route_time_index');
    t.index(['departure_time'], 'trajets_departure_time_index');
    t.index(['status', 'departure_time'], 'trajets_status_time_index');
    t.index(['transporteur_id', 'departure_time'], 'trajets_transporteur_time_index');
  });

  await createTable(knex, 'reservations', (t) => {
    t.increments('id');
    t.datetime('reservation_date').notNullable();
    t.string('passenger_first_name', 255).notNullable();
    t.string('passenger_last_name', 255).notNullable();
    t.string('phone_number', 255).notNullable();
    t.string('status', 255).notNullable().defaultTo('pending');
    t.integer('seats_reserved').notNullable().defaultTo(1);
    t.boolean('refundable_option').notNullable().defaultTo(false);
    t.decimal('refund_supplement_amount', 10, 2).notNullable().defaultTo(0);
    t.decimal('total_amount', 10, 2).notNullable();
    foreignId(t, 'trajet_id', 'trajets', 'RESTRICT');
    foreignId(t, 'compte_id', 'comptes', 'RESTRICT', true);
    timestamps(knex, t);
    check(t, 'reservations', 'seats_reserved', '?? >= 1', ['seats_reserved']);
    check(t, 'reservations', 'amounts', '?? >= 0 and ?? >= 0', ['refund_supplement_amount', 'total_amount']);
    checkIn(t, 'reservations', 'status', RESERVATION_STATUSES);
    t.index(['trajet_id', 'status'], 'reservations_trajet_status_index');
    t.index(['compte_id', 'id'], 'reservations_compte_index');
    t.index(['status', 'id'], 'reservations_status_id_index');
    t.index(['reservation_date'], 'reservations_date_index');
  });

  await createTable(knex, 'paiements', (t) => {
    t.increments('id');
    t.decimal('amount', 10, 2).notNullable();
    t.string('status', 255).notNullable().defaultTo('pending');
    t.datetime('payment_date').notNullable();
    foreignId(t, 'reservation_id', 'reservations', 'CASCADE');
    timestamps(knex, t);
    t.unique(['reservation_id'], { indexName: 'paiements_reservation_id_unique' });
    check(t, 'paiements', 'amount', '?? >= 0', ['amount']);
    checkIn(t, 'paiements', 'status', PAIEMENT_STATUSES);
    t.index(['status', 'payment_date'], 'paiements_status_date_index');
    t.index(['payment_date'], 'paiements_date_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('paiements');
  await knex.schema.dropTable('reservations');
  await knex.schema.dropTable('trajets');
}
