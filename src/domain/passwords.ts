/**
 * Password rules and hashing. bcrypt reads only the first 72 bytes of its input: longer passwords
 * (and NUL bytes, which end the C string) are refused instead of silently truncated.
 */
import { randomBytes } from 'node:crypto';
import { InvalidInput } from './errors.js';

export const BCRYPT_MAX_BYTES = 72;

export function validatePassword(password: string, minLength: number): void {
  if (password.length === 0) throw new InvalidInput('the password is empty');
  if (password.includes('\0')) throw new InvalidInput('the password contains a NUL byte, which bcrypt cannot hash');
  const bytes = Buffer.byteLength(password, 'utf8');
  if (bytes > BCRYPT_MAX_BYTES) {
    throw new InvalidInput(
      `the password is ${bytes} bytes long; bcrypt uses at most ${BCRYPT_MAX_BYTES} bytes: choose a shorter one`,
    );
  }
  if ([...password].length < minLength) {
    throw new InvalidInput(`the password is too short: use at least ${minLength} characters`);
  }
}

export async function hashPassword(password: string, cost: number): Promise<string> {
  const { default: bcrypt } = await import('bcrypt');
  return bcrypt.hash(password, cost);
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const { default: bcrypt } = await import('bcrypt');
  return bcrypt.compare(password, hash);
}

/** 20 characters from an unambiguous alphabet (~115 bits), for `--generate-password`. */
export function generatePassword(length = 20): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_';
  const bytes = randomBytes(length * 2);
  let out = '';
  for (let i = 0; out.length < length && i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b < 256 - (256 % alphabet.length)) out += alphabet[b % alphabet.length];
  }
  return out.length === length ? out : generatePassword(length);
}
