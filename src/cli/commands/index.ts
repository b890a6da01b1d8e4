/**
 * Every command module registers itself here: `export function register(program: Command): void`.
 * One import and one entry per module, so that several people can add commands without touching main.ts.
 */
import type { Command } from 'commander';
import { register as scenario } from './scenario.js';
import { register as restore } from './restore.js';
import { register as demo } from './demo.js';
import { register as importConfig } from './import-config.js';
import { register as checkpoint } from './checkpoint.js';
import { register as importStrace } from './import.js';
import { register as check } from './check.js';
import { register as record } from './record.js';

export const registrations: ((program: Command) => void)[] = [];
registrations.push(scenario);
registrations.push(restore);
registrations.push(demo);
registrations.push(importConfig);
registrations.push(checkpoint);
registrations.push(importStrace);
registrations.push(check);
registrations.push(record);
