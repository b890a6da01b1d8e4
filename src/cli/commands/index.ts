/**
 * Every command module registers itself here: `export function register(program: Command): void`.
 * One import and one entry per module, so that several people can add commands without touching main.ts.
 */
import type { Command } from 'commander';

export const registrations: ((program: Command) => void)[] = [];
