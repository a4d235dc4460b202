/**
 * Archive tables for `billettigue maintenance archive` (seed: "archivage des anciennes données").
 * reservations_archive, paiements_archive, envois_archive, colis_archive: the columns of the live
 * table, same types, plus `archived_at` (when the row was moved).
 * - `id` keeps the live id (no AUTO_INCREMENT): a restored row comes back under its own id, and the
 *   audit log and the platform's references stay valid.
 * - No foreign key towards live tables (trajets, comptes, utilisateurs, transporteurs): archived
 *   rows must never block deleting a live row, and a live row may go away after archiving.
 * - Foreign keys inside the archive (paiement → archived reservation, colis → archived envoi,
 *   ON DELETE CASCADE) keep each archived record whole: a paiement is never archived without its
 *   reservation. UNIQUE(reservation_id) keeps "one paiement per reservation" in the archive too.
 * - CHECKs: the live table's ranges; the archived reservation/envoi status is a final one (only
 *   finished records are archived, so archived reservations never hold seats).
 */
import type { Knex } from 'knex';
import { check, checkIn, createTable, foreignId } from '../src/db/migration-helpers.js';
import { COLIS_STATUSES, PAIEMENT_STATUSES } from '../src/db/schema.js';

/** Final statuses: what `maintenance archive` moves (kept in sync with src/domain/archive.ts). */
const FINAL_RESERVATION_STATUSES = ['completed', 'cancelled', 'refunded'];
const FINAL_ENVOI_STATUSES = ['delivered', 'cancelled'];

function archiveColumns(t: Knex.CreateTableBuilder): void {
  t.datetime('created_at').notNullable();
  t.datetime('updated_at').notNullable();
  t.datetime('archived_at').notNullable();
}

export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'reservations_archive', (t) => {
    t.integer('id').unsigned().notNullable().primary();
    t.datetime('reservation_date').notNullable();
    t.string('passenger_first_name', 255).notNullable();
    t.string('passenger_last_name', 255).notNullable();
    t.string('phone_number', 255).notNullable();
    t.string('status', 255).notNullable();
    t.integer('seats_reserved').notNullable();
    t.boolean('refundable_option').notNullable();
    t.decimal('refund_supplement_amount', 10, 2).notNullable();
    t.decimal('total_amount', 10, 2).notNullable();
    t.integer('trajet_id').unsigned().notNullable();
    t.integer('compte_id').unsigned().nullable();
    archiveColumns(t);
    check(t, 'reservations_archive', 'seats_reserved', '?? >= 1', ['seats_reserved']);
    check(t, 'reservations_archive', 'amounts', '?? >= 0 and ?? >= 0', ['refund_supplement_amount', 'total_amount']);
    checkIn(t, 'reservations_archive', 'status', FINAL_RESERVATION_STATUSES);
    t.index(['trajet_id'], 'reservations_archive_trajet_index');
    t.index(['compte_id'], 'reservations_archive_compte_index');
    t.index(['archived_at'], 'reservations_archive_archived_at_index');
  });

  await createTable(knex, 'paiements_archive', (t) => {
    t.integer('id').unsigned().notNullable().primary();
    t.decimal('amount', 10, 2).notNullable();
    t.string('status', 255).notNullable();
    t.datetime('payment_date').notNullable();
    foreignId(t, 'reservation_id', 'reservations_archive', 'CASCADE');
    archiveColumns(t);
    t.unique(['reservation_id'], { indexName: 'paiements_archive_reservation_id_unique' });
    check(t, 'paiements_archive', 'amount', '?? >= 0', ['amount']);
    checkIn(t, 'paiements_archive', 'status', PAIEMENT_STATUSES);
  });

  await createTable(knex, 'envois_archive', (t) => {
    t.integer('id').unsigned().notNullable().primary();
    t.string('description', 255).notNullable();
    t.string('status', 255).notNullable();
    t.integer('expediteur_id').unsigned().notNullable();
    t.string('recipient_name', 255).notNullable();
    t.string('recipient_phone', 255).notNullable();
    t.integer('transporteur_id').unsigned().notNullable();
    t.integer('compte_id').unsigned().notNullable();
    archiveColumns(t);
    checkIn(t, 'envois_archive', 'status', FINAL_ENVOI_STATUSES);
    t.index(['compte_id'], 'envois_archive_compte_index');
    t.index(['transporteur_id'], 'envois_archive_transporteur_index');
    t.index(['archived_at'], 'envois_archive_archived_at_index');
  });

  await createTable(knex, 'colis_archive', (t) => {
    t.integer('id').unsigned().notNullable().primary();
    t.string('description', 255).notNullable();
    t.decimal('weight', 8, 2).notNullable();
    t.string('dimensions', 255).nullable();
    t.decimal('shipping_cost', 10, 2).notNullable();
    t.string('status', 255).notNullable();
    foreignId(t, 'envoi_id', 'envois_archive', 'CASCADE');
    archiveColumns(t);
    check(t, 'colis_archive', 'weight', '?? > 0', ['weight']);
    check(t, 'colis_archive', 'shipping_cost', '?? >= 0', ['shipping_cost']);
    checkIn(t, 'colis_archive', 'status', COLIS_STATUSES);
    t.index(['envoi_id'], 'colis_archive_envoi_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('colis_archive');
  await knex.schema.dropTable('envois_archive');
  await knex.schema.dropTable('paiements_archive');
  await knex.schema.dropTable('reservations_archive');
}
