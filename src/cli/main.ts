import { Command, CommanderError } from 'commander';
import { UsageError } from './errors.js';
import { registrations } from './commands/index.js';

export { UsageError };

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('tns')
    .description(
      'tns — an event-sourced ledger of Linux namespace activity, centred on time namespaces.\n' +
        'Every namespace syscall is an immutable event; replay projects tasks, nsproxies, namespaces and refcounts at any point.',
    )
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  for (const register of registrations) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`tns: ${e.message}\n`);
      return e.exitCode;
    }
    const err = e as NodeJS.ErrnoException;
    if (err && typeof err.code === 'string' && err.path) {
      process.stderr.write(`tns: ${err.path}: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`tns: internal error: ${(e as Error)?.message ?? String(e)}\n`);
    if (process.env.TNS_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
    return 70;
  }
}
