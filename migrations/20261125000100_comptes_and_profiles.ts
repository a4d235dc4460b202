/**
 * roles, comptes and the three profile tables (seed §1–5).
 * - comptes.role_id RESTRICT: a role in use cannot disappear under its accounts.
 * - profiles.compte_id CASCADE + UNIQUE: a profile is part of its account (1:1 in the seed).
 */
import type { Knex } from 'knex';
import { engineOf } from '../src/db/engines/index.js';
import { check, checkIn, createTable, foreignId, timestamps } from '../src/db/migration-helpers.js';
import { COMPANY_TYPES, COMPTE_STATUSES } from '../src/db/schema.js';

export async function up(knex: Knex): Promise<void> {
  // PostgreSQL: bt_fold(), which the city indexes of later migrations are built on.
  await engineOf(knex).createSchemaFunctions(knex);
  await createTable(knex, 'roles', (t) => {
    t.increments('id');
    t.string('name', 50).notNullable().unique('roles_name_unique');
    t.text('description').nullable();
    timestamps(knex, t);
  });

  await createTable(knex, 'comptes', (t) => {
    t.increments('id');
    t.string('email', 255).notNullable().unique('comptes_email_unique');
    t.string('password_hash', 255).notNullable();
    t.string('status', 255).notNullable().defaultTo('active');
    t.boolean('email_verified').notNullable().defaultTo(false);
    t.boolean('phone_verified').notNullable().defaultTo(false);
    t.datetime('last_login').nullable();
    t.integer('login_attempts').notNullable().defaultTo(0);
    t.integer('failed_logins').notNullable().defaultTo(0);
    t.datetime('last_failed_login').nullable();
    t.boolean('account_locked').notNullable().defaultTo(false);
    t.datetime('password_changed_at').nullable();
    foreignId(t, 'role_id', 'roles', 'RESTRICT');
    timestamps(knex, t);
    checkIn(t, 'comptes', 'status', COMPTE_STATUSES);
    check(t, 'comptes', 'counters', '?? >= 0 and ?? >= 0', ['login_attempts', 'failed_logins']);
    // `accounts list --status S` pages by id within a status; (status, id) serves it without a sort.
    t.index(['status', 'id'], 'comptes_status_id_index');
    t.index(['account_locked', 'id'], 'comptes_locked_id_index');
    t.index(['role_id', 'id'], 'comptes_role_id_index');
    t.index(['created_at'], 'comptes_created_at_index');
  });

  await createTable(knex, 'utilisateurs', (t) => {
    t.increments('id');
    t.string('last_name', 255).notNullable();
    t.string('first_name', 255).notNullable();
    t.string('phone_number', 255).notNullable();
    foreignId(t, 'compte_id', 'comptes', 'CASCADE');
    timestamps(knex, t);
    t.unique(['compte_id'], { indexName: 'utilisateurs_compte_id_unique' });
    t.index(['last_name', 'first_name'], 'utilisateurs_name_index');
  });

  await createTable(knex, 'transporteurs', (t) => {
    t.increments('id');
    t.string('phone_number', 255).notNullable();
    t.string('company_name', 255).nullable();
    t.string('company_type', 100).notNullable().defaultTo('mixte');
    foreignId(t, 'compte_id', 'comptes', 'CASCADE');
    timestamps(knex, t);
    t.unique(['compte_id'], { indexName: 'transporteurs_compte_id_unique' });
    checkIn(t, 'transporteurs', 'company_type', COMPANY_TYPES);
  });

  await createTable(knex, 'administrateurs', (t) => {
    t.increments('id');
    t.string('last_name', 255).notNullable();
    t.string('first_name', 255).notNullable();
    foreignId(t, 'compte_id', 'comptes', 'CASCADE');
    timestamps(knex, t);
    t.unique(['compte_id'], { indexName: 'administrateurs_compte_id_unique' });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('administrateurs');
  await knex.schema.dropTable('transporteurs');
  await knex.schema.dropTable('utilisateurs');
  await knex.schema.dropTable('comptes');
  await knex.schema.dropTable('roles');
  await engineOf(knex).dropSchemaFunctions(knex);
}
