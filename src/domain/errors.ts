/**
 * Typed errors of the product. The domain throws them; the CLI maps them to one line on stderr
 * and to the exit codes of PRODUCT.md in one place (src/cli/main.ts). Each carries a message that
 * says what went wrong and, where possible, how to fix it.
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  invalid: 2,
  notFound: 3,
  conflict: 4,
  unavailable: 5,
  integrity: 6,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface ErrorOptions {
  /** Stable machine-readable code for `--json` (defaults to the class's code). */
  code?: string;
  /** Extra structured detail rendered with `--json`. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export abstract class AppError extends Error {
  abstract readonly exitCode: ExitCode;
  readonly code: string;
  readonly details?: Record<string, unknown>;

  constructor(message: string, defaultCode: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code ?? defaultCode;
    this.details = options.details;
  }
}

/** Bad usage or invalid input (exit 2). */
export class InvalidInput extends AppError {
  readonly exitCode = EXIT.invalid;
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'invalid_input', options);
  }
}

/** The record addressed does not exist (exit 3). */
export class NotFound extends AppError {
  readonly exitCode = EXIT.notFound;
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'not_found', options);
  }
}

/** Duplicate, forbidden state change, not enough seats, row still referenced (exit 4). */
export class Conflict extends AppError {
  readonly exitCode = EXIT.conflict;
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'conflict', options);
  }
}

/** Database unreachable or misconfigured, schema not migrated (exit 5). */
export class Unavailable extends AppError {
  readonly exitCode = EXIT.unavailable;
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'unavailable', options);
  }
}

/**
 * The change asked for is already in place (unlock an unlocked account): nothing to do. The CLI
 * says so and exits 0, like `mkdir -p`; a Conflict (exit 4) where a caller does not handle it.
 */
export class NoChange extends Conflict {
  constructor(message: string, options?: ErrorOptions) {
    super(message, { code: 'no_change', ...options });
  }
}

/** Integrity failure: backup checksum, verification, invariant check (exit 6). */
export class IntegrityError extends AppError {
  readonly exitCode = EXIT.integrity;
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'integrity', options);
  }
}

/** The user interrupted the command (Ctrl-C, exit 130). */
export class Interrupted extends AppError {
  readonly exitCode = EXIT.interrupted;
  constructor(message = 'interrupted: the open transaction was rolled back', options?: ErrorOptions) {
    super(message, 'interrupted', options);
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
