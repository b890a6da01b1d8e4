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

import { register as replayCmd } from './replay.js';
import { register as stateCmd } from './state.js';
import { register as diffCmd } from './diff.js';
import { register as logCmd } from './log.js';
import { register as whyCmd } from './why.js';
import { register as verifyCmd } from './verify.js';
import { register as repairCmd } from './repair.js';
import { register as synthCmd } from './synth.js';
import { register as bisectCmd } from './bisect.js';
export const registrations: ((program: Command) => void)[] = [];
registrations.push(scenario);
registrations.push(restore);
registrations.push(demo);
registrations.push(importConfig);
registrations.push(checkpoint);
registrations.push(importStrace);
registrations.push(check);
registrations.push(record);
registrations.push(replayCmd);
registrations.push(stateCmd);
registrations.push(diffCmd);
registrations.push(logCmd);
registrations.push(whyCmd);
registrations.push(verifyCmd);
registrations.push(repairCmd);
registrations.push(synthCmd);
registrations.push(bisectCmd);
