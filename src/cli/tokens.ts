/** `billettigue tokens`: placeholder until its issue lands (the group is registered so --help lists it). */
import type { Command } from 'commander';
import { action } from './context.js';
import { Unavailable } from '../domain/errors.js';

export function register(cmd: Command): void {
  cmd.action(
    action(async () => {
      throw new Unavailable('`billettigue tokens` is not available in this build yet');
    }),
  );
}
