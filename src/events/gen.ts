/** Writes events/schema.json and events/examples/<call>.json: `node dist/events/gen.js [DIR]` (default: ./events). */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { exampleFiles, schemaFileText } from './json-schema.js';

export function writeEventsDir(dir: string): string[] {
  const written: string[] = [];
  mkdirSync(join(dir, 'examples'), { recursive: true });
  writeFileSync(join(dir, 'schema.json'), schemaFileText());
  written.push(join(dir, 'schema.json'));
  const files = exampleFiles();
  for (const old of readdirSync(join(dir, 'examples'))) if (old.endsWith('.json') && !files.has(old)) rmSync(join(dir, 'examples', old));
  for (const [name, text] of files) {
    writeFileSync(join(dir, 'examples', name), text);
    written.push(join(dir, 'examples', name));
  }
  return written;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const dir = resolve(process.argv[2] ?? 'events');
  const written = writeEventsDir(dir);
  process.stdout.write(`wrote ${written.length} files under ${dir}\n`);
}
