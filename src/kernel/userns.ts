/** kernel/user_namespace.c: create_user_ns. */
import type { Errno } from './ops.js';
import type { Cred, World } from './types.js';
import { kuidMapped, nsCapable } from './cred.js';
import { getNs } from './refs.js';
import { ALL_CAPS, allocInum, INT_MAX } from './world.js';

/**
 * create_user_ns(new_cred): level ≤ 32 (EUSERS), the creator's euid must be mapped in the parent (EPERM),
 * then the new namespace (owner = euid, every ucount limit INT_MAX, no uid_map yet) and the cred gets the full
 * capability set in it. Returns the new namespace's inum; the cred is changed in place.
 */
export function createUserNs(world: World, cred: Cred): { ok: true; inum: number } | { ok: false; errno: Errno; rule: string } {
  const parent = world.namespaces[cred.userns];
  if ((parent.level ?? 0) > 32) return { ok: false, errno: 'EUSERS', rule: 'create_user_ns: more than 32 nested user namespaces (EUSERS)' };
  if (!kuidMapped(world, cred.userns, cred.euid))
    return { ok: false, errno: 'EPERM', rule: 'create_user_ns: the creator\'s euid has no mapping in its user namespace (EPERM)' };
  const inum = allocInum(world);
  world.namespaces[inum] = {
    inum,
    type: 'user',
    count: 0,
    owner: null,
    initial: false,
    parent: parent.inum,
    level: (parent.level ?? 0) + 1,
    ownerUid: cred.euid,
    maxTimeNamespaces: INT_MAX,
    uidMap: null,
    gidMapped: false,
    setgroupsDenied: false,
    parentCouldSetfcap: nsCapable(world, cred, parent.inum, 'CAP_SETFCAP'),
  };
  getNs(world, parent.inum);
  cred.userns = inum;
  cred.caps = [...ALL_CAPS];
  cred.permitted = [...ALL_CAPS];
  return { ok: true, inum };
}
