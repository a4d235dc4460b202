/**
 * The platform's schema as Sequelize 6 builds it on SQLite (`sequelize.sync()` with the models of
 * test/platform/models.ts): its types (INTEGER, VARCHAR(255), TINYINT(1), DATETIME, DECIMAL), inline
 * REFERENCES with Sequelize's ON DELETE (CASCADE when NOT NULL, SET NULL otherwise), its index
 * names, no CHECK. Written out because running Sequelize on SQLite needs the `sqlite3` native
 * package, which this repository does not install; the MariaDB tests run the real Sequelize.
 * Plus a few rows, inserted with the app's columns only.
 */
import type { Knex } from 'knex';

const FK = (table: string, nullable = false) => `REFERENCES \`${table}\` (\`id\`) ON DELETE ${nullable ? 'SET NULL' : 'CASCADE'} ON UPDATE CASCADE`;
const TS = '`created_at` DATETIME NOT NULL, `updated_at` DATETIME NOT NULL';

export const SEQUELIZE_SQLITE_DDL = [
  `CREATE TABLE IF NOT EXISTS \`roles\` (\`id\` INTEGER PRIMARY KEY AUTOINCREMENT, \`name\` VARCHAR(50) NOT NULL UNIQUE, \`description\` TEXT, ${TS})`,
  `CREATE TABLE IF NOT EXISTS \`comptes\` (\`id\` INTEGER PRIMARY KEY AUTOINCREMENT, \`email\` VARCHAR(255) NOT NULL UNIQUE, \`password_hash\` VARCHAR(255) NOT NULL, \`status\` VARCHAR(255) NOT NULL DEFAULT 'active', \`email_verified\` TINYINT(1) NOT NULL DEFAULT 0, \`phone_verified\` TINYINT(1) NOT NULL DEFAULT 0, \`last_login\` DATETIME, \`login_attempts\` INTEGER NOT NULL DEFAULT 0, \`failed_logins\` INTEGER NOT NULL DEFAULT 0, \`last_failed_login\` DATETIME, \`account_locked\` TINYINT(1) NOT NULL DEFAULT 0, \`password_changed_at\` DATETIME, \`role_id\` INTEGER NOT NULL ${FK('roles')}, ${TS})`,
  `CREATE TABLE IF NOT EXISTS \`utilisateurs\` (\`id\` INTEGER PRIMARY KEY AUTOINCREMENT, \`last_name\` VARCHAR(255) NOT NULL, \`first_name\` VARCHAR(255) NOT NULL, \`phone_number\` VARCHAR(255) NOT NULL, \`compte_id\` INTEGER NOT NULL ${FK('comptes')}, ${TS})`,
  `CREATE TABLE IF NOT EXISTS \`transporteurs\` (\`id\` INTEGER PRIMARY KEY AUTOINCREMENT, \`phone_number\` VARCHAR(255) NOT NULL, \`company_name\` VARCHAR(255), \`company_type\` VARCHAR(100) NOT NULL DEFAULT 'mixte', \`compte_id\` INTEGER NOT NULL ${FK('comptes')}, ${TS})`,
  `CREATE TABLE IF NOT EXISTS \`administrateurs\` (\`id\` INTEGER PRIMARY KEY AUTOINCREMENT, \`last_name\` VARCHAR(255) NOT NULL, \`first_name\` VARCHAR(255) NOT NULL, \`compte_id\` INTEGER NOT NULL ${FK('comptes')}, ${TS})`,
  `CREATE TABLE IF NOT EXISTS \`trajets\` (\`id\` INTEGER PRIMARY KEY AUTOINCREMENT, \`departure_city\` VARCHAR(100) NOT NULL, \`arrival_city\` VARCHAR(100) NOT NULL, \`departure_time\` DATETIME NOT NULL, \`price\` DECIMAL(10,2) NOT NULL, \`seats_count\` INTEGER NOT NULL DEFAULT 1, \`available_seats\` INTEGER NOT NULL DEFAULT 1, \`status\` VARCHAR(20) NOT NULL DEFAULT 'active', \`accepts_packages\` TINYINT(1) NOT NULL DEFAULT 1, \`max_package_weight\` DECIMAL(8,2), \`departure_point\` VARCHAR(200), \`arrival_point\` VARCHAR(200), \`transporteur_id\` INTEGER NOT NULL ${FK('transporteurs')}, ${TS})`,
  `CREATE TABLE IF NOT EXISTS \`reservations\` (\`id\` INTEGER PRIMARY KEY AUTOINCREMENT, \`reservation_date\` DATETIME NOT NULL, \`passenger_first_name\` VARCHAR(255) NOT NULL, \`passenger_last_name\` VARCHAR(255) NOT NULL, \`phone_number\` VARCHAR(255) NOT NULL, \`status\` VARCHAR(255) NOT NULL DEFAULT 'pending', \`seats_reserved\` INTEGER NOT NULL DEFAULT 1, \`refundable_option\` TINYINT(1) NOT NULL DEFAULT 0, \`refund_supplement_amount\` DECIMAL(10,2) NOT NULL DEFAULT 0, \`total_amount\` DECIMAL(10,2) NOT NULL, \`trajet_id\` INTEGER NOT NULL ${FK('trajets')}, \`compte_id\` INTEGER ${FK('comptes', true)}, ${TS})`,
  `CREATE TABLE IF NOT EXISTS \`paiements\` (\`id\` INTEGER PRIMARY KEY AUTOINCREMENT, \`amount\` DECIMAL(10,2) NOT NULL, \`status\` VARCHAR(255) NOT NULL DEFAULT 'pending', \`payment_date\` DATETIME NOT NULL, \`reservation_id\` INTEGER NOT NULL ${FK('reservations')}, ${TS})`,
  `CREATE TABLE IF NOT EXISTS \`envois\` (\`id\` INTEGER PRIMARY KEY AUTOINCREMENT, \`description\` VARCHAR(255) NOT NULL, \`status\` VARCHAR(255) NOT NULL DEFAULT 'pending', \`expediteur_id\` INTEGER NOT NULL ${FK('utilisateurs')}, \`recipient_name\` VARCHAR(255) NOT NULL, \`recipient_phone\` VARCHAR(255) NOT NULL, \`transporteur_id\` INTEGER NOT NULL ${FK('transporteurs')}, \`compte_id\` INTEGER NOT NULL ${FK('comptes')}, ${TS})`,
  `CREATE TABLE IF NOT EXISTS \`colis\` (\`id\` INTEGER PRIMARY KEY AUTOINCREMENT, \`description\` VARCHAR(255) NOT NULL, \`weight\` DECIMAL(8,2) NOT NULL, \`dimensions\` VARCHAR(255), \`shipping_cost\` DECIMAL(10,2) NOT NULL, \`status\` VARCHAR(255) NOT NULL DEFAULT 'pending', \`envoi_id\` INTEGER NOT NULL ${FK('envois')}, ${TS})`,
  `CREATE TABLE IF NOT EXISTS \`zones_desservies\` (\`id\` INTEGER PRIMARY KEY AUTOINCREMENT, \`city_name\` VARCHAR(255) NOT NULL, \`region\` VARCHAR(255), \`zone_type\` VARCHAR(50) NOT NULL DEFAULT 'both', \`service_frequency\` VARCHAR(50), \`max_weight_capacity\` DECIMAL(8,2), \`transporteur_id\` INTEGER NOT NULL ${FK('transporteurs')}, ${TS})`,
  'CREATE INDEX `zones_desservies_city_name` ON `zones_desservies` (`city_name`)',
  'CREATE INDEX `zones_desservies_transporteur_id` ON `zones_desservies` (`transporteur_id`)',
  'CREATE UNIQUE INDEX `zones_desservies_city_name_transporteur_id` ON `zones_desservies` (`city_name`, `transporteur_id`)',
  `CREATE TABLE IF NOT EXISTS \`revoked_tokens\` (\`id\` INTEGER PRIMARY KEY AUTOINCREMENT, \`token\` TEXT NOT NULL UNIQUE, \`user_id\` INTEGER NOT NULL ${FK('comptes')}, \`revoked_at\` DATETIME NOT NULL, \`expires_at\` DATETIME NOT NULL, \`reason\` VARCHAR(255) DEFAULT 'logout')`,
  'CREATE INDEX `revoked_tokens_user_id` ON `revoked_tokens` (`user_id`)',
  'CREATE INDEX `revoked_tokens_expires_at` ON `revoked_tokens` (`expires_at`)',
];

/** A small platform as the app writes it (Sequelize writes DATETIME as 'YYYY-MM-DD HH:MM:SS.SSS +00:00'). */
export async function fillSqlitePlatform(knex: Knex): Promise<void> {
  const at = '2026-11-20 09:00:00.000 +00:00';
  const ts = { created_at: at, updated_at: at };
  const hash = '$2b$04$abcdefghijklmnopqrstuu5W0wYQ6xq8xV3Jk9m3eP1t3b1Yd5m1a';
  await knex('roles').insert(['admin', 'user', 'transporteur'].map((name) => ({ name, description: null, ...ts })));
  await knex('comptes').insert([
    { email: 'admin@example.fr', password_hash: hash, role_id: 1, ...ts },
    { email: 'lea@example.fr', password_hash: hash, role_id: 2, ...ts },
    { email: 'tr@example.fr', password_hash: hash, role_id: 3, ...ts },
  ]);
  await knex('administrateurs').insert({ first_name: 'Ada', last_name: 'Admin', compte_id: 1, ...ts });
  await knex('utilisateurs').insert({ first_name: 'Léa', last_name: 'Martin', phone_number: '06 12 34 56 78', compte_id: 2, ...ts });
  await knex('transporteurs').insert({ phone_number: '0698765432', company_name: 'Trans Loire', company_type: 'mixte', compte_id: 3, ...ts });
  await knex('trajets').insert({ departure_city: 'Orléans', arrival_city: 'Tours', departure_time: '2027-01-10 08:00:00.000 +00:00', price: 12.5, seats_count: 4, available_seats: 2, transporteur_id: 1, ...ts });
  await knex('reservations').insert({ reservation_date: at, passenger_first_name: 'Léa', passenger_last_name: 'Martin', phone_number: '0612345678', seats_reserved: 2, refundable_option: 1, refund_supplement_amount: 2.5, total_amount: 27.5, trajet_id: 1, compte_id: 2, ...ts });
  await knex('paiements').insert({ amount: 27.5, payment_date: at, reservation_id: 1, ...ts });
  await knex('envois').insert({ description: 'Livres', expediteur_id: 1, recipient_name: 'Marie', recipient_phone: '0611223344', transporteur_id: 1, compte_id: 2, ...ts });
  await knex('colis').insert([
    { description: 'Livres', weight: 2.5, shipping_cost: 8.75, envoi_id: 1, ...ts },
    { description: 'Enveloppe', weight: 0, shipping_cost: 5, envoi_id: 1, ...ts },
  ]);
  await knex('zones_desservies').insert({ city_name: 'Orléans', zone_type: 'both', transporteur_id: 1, ...ts });
  await knex('revoked_tokens').insert({ token: 'eyJhbGciOiJIUzI1NiJ9.eyJpZCI6MSwiZXhwIjoxOTAwMDAwMDAwfQ.c2ln', user_id: 1, revoked_at: at, expires_at: '2030-03-17 17:46:40.000 +00:00', reason: 'logout' });
}
