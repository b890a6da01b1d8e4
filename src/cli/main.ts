import { Command, CommanderError } from 'commander';
import { printable, UsageError } from './errors.js';
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
    // A usage error is one line and a pointer to the help (not the whole help after it), prefixed like the others.
    .configureOutput({ outputError: (str, write) => write(`tns: ${printable(str.replace(/^error: /, ''))}`) })
    .exitOverride();
  for (const register of registrations) register(program);
  const hint = (cmd: Command, name: string): void => {
    cmd.showHelpAfterError(`(${name} --help: usage and examples)`);
    for (const sub of cmd.commands) hint(sub, `${name} ${sub.name()}`);
  };
  hint(program, 'tns');
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
      process.stderr.write(`tns: ${printable(e.message)}\n`);
      return e.exitCode;
    }
    const err = e as NodeJS.ErrnoException;
    if (err && typeof err.code === 'string' && err.path) {
      process.stderr.write(`tns: ${printable(`${err.path}: ${err.message}`)}\n`);
      return 2;
    }
    process.stderr.write(`tns: internal error: ${printable((e as Error)?.message ?? String(e))}\n`);
    if (process.env.TNS_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
    return 70;
  }
}
