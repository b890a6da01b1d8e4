#!/usr/bin/env node
// The tns command. The TypeScript sources are compiled to dist/ by `npm install` (prepare) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const entry = join(root, 'dist', 'cli', 'main.js');
if (!existsSync(entry)) {
  process.stderr.write(`tns: ${entry} is missing; run \`npm install\` or \`npm run build\` in ${root} first\n`);
  process.exit(2);
}
// A closed pipe (`tns log L | head`) is a normal end, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e && e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
const { main } = await import(entry);
process.exitCode = await main(process.argv);
