/**
 * zones_desservies and revoked_tokens (seed §11–12).
 * - zones_desservies.transporteur_id CASCADE: zones are the carrier's own configuration.
 *   Indexes of the seed: city_name, transporteur_id, UNIQUE (city_name, transporteur_id).
 * - revoked_tokens.user_id CASCADE: a token of a removed account means nothing.
 *   Deviation: the seed wants UNIQUE on `token` (TEXT). MySQL cannot index a TEXT column without a
 *   prefix (error 1170) and a prefix is not unique, so `token` stays TEXT NOT NULL and
 *   `token_hash` CHAR(64) (SHA-256 hex of the token) carries the UNIQUE index used for exact lookups.
 */
import type { Knex } from 'knex';
import { check, checkIn, createTable, folded, foreignId, timestamps, uniqueKey } from '../src/db/migration-helpers.js';
import { SERVICE_FREQUENCIES, ZONE_TYPES } from '../src/db/schema.js';

export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'zones_desservies', (t) => {
    t.increments('id');
    t.string('city_name', 255).notNullable();
    t.string('region', 255).nullable();
    t.string('zone_type', 50).notNullable().defaultTo('both');
    t.string('service_frequency', 50).nullable();
    t.decimal('max_weight_capacity', 8, 2).nullable();
    foreignId(t, 'transporteur_id', 'transporteurs', 'CASCADE');
    timestamps(knex, t);
    // The city as matched (folded): "Orléans" and "ORLEANS" are one city, for the index and the UNIQUE.
    t.index([folded(knex, 'city_name')] as string[], 'zones_desservies_city_name_index');
    t.index(['transporteur_id'], 'zones_desservies_transporteur_id_index');
    uniqueKey(t, [folded(knex, 'city_name'), 'transporteur_id'], 'zones_desservies_city_transporteur_unique');
    checkIn(t, 'zones_desservies', 'zone_type', ZONE_TYPES);
    check(
      t,
      'zones_desservies',
      'service_frequency',
      `?? is null or ?? in (${SERVICE_FREQUENCIES.map((f) => `'${f}'`).join(', ')})`,
      ['service_frequency', 'service_frequency'],
    );
    check(t, 'zones_desservies', 'max_weight_capacity', '?? is null or ?? >= 0', [
      'max_weight_capacity',
      'max_weight_capacity',
    ]);
  });

  await createTable(knex, 'revoked_tokens', (t) => {
    t.increments('id');
    t.text('token').notNullable();
    t.specificType('token_hash', 'char(64)').notNullable();
    foreignId(t, 'user_id', 'comptes', 'CASCADE');
    t.datetime('revoked_at').notNullable().defaultTo(knex.fn.now());
    t.datetime('expires_at').notNullable();
    t.string('reason', 255).nullable().defaultTo('logout');
    t.unique(['token_hash'], { indexName: 'revoked_tokens_token_hash_unique' });
    t.index(['user_id'], 'revoked_tokens_user_id_index');
    t.index(['expires_at'], 'revoked_tokens_expires_at_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('revoked_tokens');
  await knex.schema.dropTable('zones_desservies');
}
