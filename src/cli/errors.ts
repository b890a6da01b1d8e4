/** Errors a command reports to the user: printed as one line without a stack, with an exit code. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/** Bad input at a place in a file: "FILE:LINE: message". */
export class InputError extends UsageError {
  override name = 'InputError';
  constructor(
    readonly file: string,
    readonly line: number | null,
    message: string,
  ) {
    super(`${file}${line !== null ? `:${line}` : ''}: ${message}`, 2);
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Parse an integer option ("--at 42") or throw a UsageError naming the option. */
export function intOption(name: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value) || Number(value) < min) throw new UsageError(`${name}: expected an integer ≥ ${min}, got "${value}"`);
  return Number(value);
}

/** Text from the input (a damaged line quoted in an error) as it may go to a terminal: control characters escaped. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
