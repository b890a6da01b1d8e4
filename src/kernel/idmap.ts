/**
 * kernel/user_namespace.c: /proc/PID/uid_map, gid_map and setgroups — proc_uid_map_write → map_write
 * (once only, CAP_SYS_ADMIN over the namespace for the opener, the extent parser, new_idmap_permitted with
 * verify_root_map, mapping the lower ids through the parent's map), proc_setgroups_write, and the readers.
 * Gids are not otherwise modelled: a gid_map write is checked and remembered, nothing more.
 */
import { fail, ok, type Outcome } from './ops.js';
import type { IdExtent, OpenFile, Task, World } from './types.js';
import { kuidMapped, makeKuid, nsCapable } from './cred.js';

type IdmapFile = Extract<OpenFile, { kind: 'idmap' }>;

const U32_MAX = 0xffffffff;
const UID_GID_MAP_MAX_EXTENTS = 340;

function strtoul(s: string, i: number): { v: number; end: number } {
  let v = 0;
  let j = i;
  while (j < s.length && s[j] >= '0' && s[j] <= '9') {
    v = (v * 10 + (s.charCodeAt(j) - 48)) % 2 ** 64;
    j++;
  }
  return { v: v > U32_MAX ? v % 2 ** 32 : v, end: j };
}

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';

/** The extent parser of map_write: "first lower count" per line; EINVAL on anything else. */
export function parseIdMap(data: string): IdExtent[] | string {
  const text = data.replace(/\0[^]*$/, '');
  const extents: IdExtent[] = [];
  let pos: number | null = 0;
  while (pos !== null) {
    let end = text.indexOf('\n', pos);
    let next: number | null = null;
    if (end >= 0) {
      next = end + 1;
      if (next >= text.length) next = null;
    } else end = text.length;
    const line = text.slice(pos, end);
    let i = 0;
    const skip = () => {
      while (isSpace(line[i])) i++;
    };
    skip();
    const a = strtoul(line, i);
    if (!isSpace(line[a.end])) return `"${line}": expected "first lower count"`;
    i = a.end;
    skip();
    const b = strtoul(line, i);
    if (!isSpace(line[b.end])) return `"${line}": expected "first lower count"`;
    i = b.end;
    skip();
    const c = strtoul(line, i);
    if (c.end < line.length && !isSpace(line[c.end])) return `"${line}": trailing text after the count`;
    i = c.end;
    skip();
    if (i < line.length) return `"${line}": trailing text after the count`;
    if (a.v === U32_MAX || b.v === U32_MAX) return `"${line}": 4294967295 is not a valid id`;
    if (a.v + c.v <= a.v || a.v + c.v > 2 ** 32 || b.v + c.v <= b.v || b.v + c.v > 2 ** 32) return `"${line}": the count is zero or wraps`;
    for (const e of extents) {
      if (a.v < e.first + e.count && e.first < a.v + c.v) return `"${line}": overlaps an earlier extent`;
      if (b.v < e.lower + e.count && e.lower < b.v + c.v) return `"${line}": overlaps an earlier extent`;
    }
    if (extents.length + 1 === UID_GID_MAP_MAX_EXTENTS && next !== null) return 'more than 340 extents';
    extents.push({ first: a.v, lower: b.v, count: c.v });
    pos = next;
  }
  if (extents.length === 0) return 'no extent';
  return extents;
}

/** A write to uid_map or gid_map. `writer` is the calling task (ns_capable), `f.cred` the opener (file_ns_capable). */
export function writeIdMap(world: World, writer: Task, f: IdmapFile, data: string): Outcome {
  const ns = world.namespaces[f.userns];
  const name = `${f.map}_map`;
  if (ns.parent == null) return fail('EPERM', `${name}: the initial user namespace's map cannot be written (EPERM)`);
  if (f.cred.userns !== ns.inum && f.cred.userns !== ns.parent)
    return fail('EPERM', `${name}: the opener is neither in the namespace nor in its parent (EPERM)`);
  if (f.pos !== 0 || data.length >= 4096) return fail('EINVAL', `${name}: writes must start at position 0 and be below a page (EINVAL)`);
  const written = f.map === 'uid' ? (ns.uidMap ?? null) !== null : !!ns.gidMapped;
  if (written) return fail('EPERM', `${name}: a map is written only once (EPERM)`);
  if (!nsCapable(world, f.cred, ns.inum, 'CAP_SYS_ADMIN'))
    return fail('EPERM', `${name}: the opener lacks CAP_SYS_ADMIN over the user namespace (EPERM)`);
  const parsed = parseIdMap(data);
  if (typeof parsed === 'string') return fail('EINVAL', `${name}: ${parsed} (EINVAL)`);
  const cap = f.map === 'uid' ? 'CAP_SETUID' : 'CAP_SETGID';
  // verify_root_map: mapping the parent's id 0 needs CAP_SETFCAP (when the namespace was made, or by the opener).
  if (f.map === 'uid' && parsed.some((e) => e.lower === 0)) {
    const allowed = f.cred.userns === ns.inum ? !!ns.parentCouldSetfcap : nsCapable(world, f.cred, ns.parent, 'CAP_SETFCAP');
    if (!allowed) return fail('EPERM', `${name}: mapping the parent's root needs CAP_SETFCAP (verify_root_map) (EPERM)`);
  }
  let permitted = false;
  if (parsed.length === 1 && parsed[0].count === 1 && ns.ownerUid === f.cred.euid) {
    if (f.map === 'uid') permitted = makeKuid(world, ns.parent, parsed[0].lower) === f.cred.euid;
    else permitted = !!ns.setgroupsDenied; // gids are not modelled: the one-gid self map needs setgroups "deny"
  }
  if (!permitted && nsCapable(world, writer.cred, ns.parent, cap) && nsCapable(world, f.cred, ns.parent, cap)) permitted = true;
  if (!permitted) return fail('EPERM', `${name}: needs ${cap} over the parent user namespace for the writer and the opener (EPERM)`);
  if (f.map === 'gid') {
    ns.gidMapped = true;
    return ok(data.length);
  }
  // Map the lower ids through the parent's map to global uids; every id of an extent must be mapped there.
  const out: IdExtent[] = [];
  for (const e of parsed) {
    const lo = makeKuid(world, ns.parent, e.lower);
    const hi = makeKuid(world, ns.parent, e.lower + e.count - 1);
    if (lo === null || hi === null || hi - lo !== e.count - 1)
      return fail('EPERM', `${name}: ids ${e.lower}..${e.lower + e.count - 1} are not mapped in the parent user namespace (EPERM)`);
    out.push({ first: e.first, lower: lo, count: e.count });
  }
  ns.uidMap = out;
  return ok(data.length);
}

/** proc_setgroups_write: "allow" or "deny"; deny is permanent, and impossible once gid_map is written. */
export function writeSetgroups(world: World, f: IdmapFile, data: string): Outcome {
  const ns = world.namespaces[f.userns];
  if (f.pos !== 0 || data.length >= 8) return fail('EINVAL', 'setgroups: writes must start at 0 and be short (EINVAL)');
  const word = data.replace(/\0[^]*$/, '').replace(/^[ \t\n]+/, '');
  let allow: boolean;
  if (/^allow[ \t\n]*$/.test(word)) allow = true;
  else if (/^deny[ \t\n]*$/.test(word)) allow = false;
  else return fail('EINVAL', `setgroups: "${data}" is neither allow nor deny (EINVAL)`);
  if (allow) {
    if (ns.setgroupsDenied) return fail('EPERM', 'setgroups: cannot allow again once denied (EPERM)');
  } else {
    if (ns.gidMapped) return fail('EPERM', 'setgroups: cannot deny after gid_map is written (EPERM)');
    ns.setgroupsDenied = true;
  }
  return ok(data.length);
}

/** Reading uid_map from the opener's user namespace: "%10u %10u %10u\n" per extent, lower shown in the reader's ids. */
export function showIdMap(world: World, f: IdmapFile): string {
  const ns = world.namespaces[f.userns];
  if (f.map === 'setgroups') return ns.setgroupsDenied ? 'deny\n' : 'allow\n';
  if (f.map === 'gid') return '';
  const pad = (n: number) => String(n).padStart(10);
  const extents = ns.uidMap === undefined ? [{ first: 0, lower: 0, count: U32_MAX }] : (ns.uidMap ?? []);
  let out = '';
  for (const e of extents) {
    // map_id_up in the reader's namespace (the file opener's).
    let lower = e.lower;
    const reader = world.namespaces[f.cred.userns];
    if (reader && reader.uidMap !== undefined && reader.inum !== ns.inum) {
      const r = (reader.uidMap ?? []).find((x) => lower >= x.lower && lower < x.lower + x.count);
      if (!r) continue;
      lower = r.first + (lower - r.lower);
    }
    out += `${pad(e.first)} ${pad(reader?.inum === ns.inum ? e.first : lower)} ${pad(e.count)}\n`;
  }
  return out;
}

export { kuidMapped };
