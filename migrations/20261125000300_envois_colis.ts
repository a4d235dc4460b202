/**
 * envois and colis (seed §9–10).
 * - envois.expediteur_id → utilisateurs, transporteur_id → transporteurs, compte_id → comptes:
 *   RESTRICT, a shipment's parties cannot vanish under it.
 * - colis.envoi_id CASCADE: colis are part of their envoi.
 * CHECKs: statuses, weight > 0 (the seed: "toujours positif"), shipping_cost >= 0.
 */
import type { Knex } from 'knex';
import { check, checkIn, createTable, foreignId, timestamps } from '../src/db/migration-helpers.js';
import { COLIS_STATUSES, ENVOI_STATUSES } from '../src/db/schema.js';

export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'envois', (t) => {
    t.increments('id');
    t.string('description', 255).notNullable();
    t.string('status', 255).notNullable().defaultTo('pending');
    foreignId(t, 'expediteur_id', 'utilisateurs', 'RESTRICT');
    t.string('recipient_name', 255).notNullable();
    t.string('recipient_phone', 255).notNullable();
    foreignId(t, 'transporteur_id', 'transporteurs', 'RESTRICT');
    foreignId(t, 'compte_id', 'comptes', 'RESTRICT');
    timestamps(knex, t);
    checkIn(t, 'envois', 'status', ENVOI_STATUSES);
    t.index(['status', 'id'], 'envois_status_id_index');
    t.index(['transporteur_id', 'id'], 'envois_transporteur_index');
    t.index(['expediteur_id', 'id'], 'envois_expediteur_index');
    t.index(['compte_id', 'id'], 'envois_compte_index');
    t.index(['created_at'], 'envois_created_at_index');
  });

  await createTable(knex, 'colis', (t) => {
    t.increments('id');
    t.string('description', 255).notNullable();
    t.decimal('weight', 8, 2).notNullable();
    t.string('dimensions', 255).nullable();
    t.decimal('shipping_cost', 10, 2).notNullable();
    t.string('status', 255).notNullable().defaultTo('pending');
    foreignId(t, 'envoi_id', 'envois', 'CASCADE');
    timestamps(knex, t);
    check(t, 'colis', 'weight', '?? > 0', ['weight']);
    check(t, 'colis', 'shipping_cost', '?? >= 0', ['shipping_cost']);
    checkIn(t, 'colis', 'status', COLIS_STATUSES);
    t.index(['envoi_id', 'status'], 'colis_envoi_status_index');
    t.index(['status'], 'colis_status_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('colis');
  await knex.schema.dropTable('envois');
}
