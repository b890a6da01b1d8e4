/**
 * The same real traces (recorded on 6.18) checked under the 5.6 profile: the model must report exactly the
 * differences the kernel's history predicts (SEMANTICS.md §6), at the lines where they happen — and those lines must
 * agree under 6.3+. Later divergences that follow from an earlier one (a child that 5.6 would not have created) are
 * not asserted one by one; the first divergence of each trace is.
 */
import { describe, expect, it } from 'vitest';
import { checkTrace, type TraceCheckResult } from '../src/ingest/check.js';
import { CAPS } from '../src/kernel/index.js';

const caps = CAPS.filter((c) => c !== 'CAP_SYS_RESOURCE');
const cache = new Map<string, TraceCheckResult>();
async function check(name: string, profile: string): Promise<TraceCheckResult> {
  const key = `${name}@${profile}`;
  if (!cache.has(key)) cache.set(key, await checkTrace([`test/traces/${name}`], { profile, spawnCaps: caps }));
  return cache.get(key)!;
}

interface Prediction {
  trace: string;
  line: number;
  call: RegExp;
  recorded: RegExp;
  model: RegExp;
  reason: RegExp;
  why: string;
}

const VM_REFUSED = /copy_process \(5\.6\): CLONE_VM\/CLONE_THREAD while time_for_children differs from time \(EINVAL\)/;
const PREDICTIONS: Prediction[] = [
  { trace: 'vfork-exec.strace', line: 22, call: /^vfork/, recorded: /^11710$/, model: /^-1 EINVAL$/, reason: VM_REFUSED, why: 'vfork after unshare(CLONE_NEWTIME) is EINVAL before 6.2' },
  { trace: 'vfork-exec.strace', line: 61, call: /^clone3/, recorded: /^11711$/, model: /^-1 EINVAL$/, reason: VM_REFUSED, why: 'posix_spawn (clone3 CLONE_VM|CLONE_VFORK) after unshare is EINVAL before 6.2' },
  { trace: 'clone-vm-tnec.strace', line: 27, call: /^clone3/, recorded: /^11480$/, model: /^-1 EINVAL$/, reason: VM_REFUSED, why: 'a thread/CLONE_VM child while T != C is EINVAL before 6.2' },
  { trace: 'clone-vm-tnec.strace', line: 44, call: /^clone/, recorded: /^11481$/, model: /^-1 EINVAL$/, reason: VM_REFUSED, why: 'legacy clone(CLONE_VM) while T != C is EINVAL before 6.2' },
  { trace: 'clone3-newtime.strace', line: 23, call: /^clone3/, recorded: /^11505$/, model: /^-1 EINVAL$/, reason: /CLONE_NEWTIME is a CSIGNAL bit before 6\.3/, why: 'clone3 accepts CLONE_NEWTIME only from 6.3' },
  { trace: 'clone3-newtime-vm.strace', line: 18, call: /^clone3/, recorded: /^11497$/, model: /^-1 EINVAL$/, reason: /CLONE_NEWTIME is a CSIGNAL bit before 6\.3/, why: 'clone3 CLONE_NEWTIME|CLONE_VM only from 6.3' },
  { trace: 'clone3-errors.strace', line: 36, call: /^clone3/, recorded: /^11488$/, model: /^-1 EINVAL$/, reason: /CLONE_NEWTIME is a CSIGNAL bit before 6\.3/, why: 'clone3 CLONE_NEWTIME only from 6.3' },
  { trace: 'unshare-exec.strace', line: 40, call: /^readlink \/proc\/self\/ns\/time$/, recorded: /time:\[4026532176\]/, model: /^time:\[model 4026531834\]$/, reason: /seen as time:\[4026531834\] before, now the kernel shows time:\[4026532176\]/, why: 'exec does not switch to time_for_children before 6.2: the exec\'d program stays in the init namespace' },
  { trace: 'util-unshare-nofork.strace', line: 112, call: /^readlink \/proc\/self\/ns\/time_for_children$/, recorded: /time:\[4026532176\]/, model: /model/, reason: /different namespace/, why: '`unshare --time` without --fork relies on the exec switch (6.2)' },
  { trace: 'unshare-fork.strace', line: 24, call: /^write/, recorded: /^36$/, model: /^-1 EINVAL$/, reason: /no symbolic names/, why: '"monotonic"/"boottime" in timens_offsets only from 5.7 (5.6.6)' },
  { trace: 'max-time-ns.strace', line: 15, call: /^openat \/proc\/sys\/user\/max_time_namespaces$/, recorded: /^3 /, model: /^-1 ENOENT$/, reason: /no such sysctl before 5\.7/, why: 'max_time_namespaces arrived in 5.7' },
  { trace: 'setns-pidfd.strace', line: 53, call: /^setns/, recorded: /^0$/, model: /^-1 EINVAL$/, reason: /neither an nsfs file nor a pidfd/, why: 'setns by pidfd arrived in 5.8 (time by pidfd in 5.9)' },
];

describe('5.6 profile: the differences the kernel history predicts', () => {
  for (const p of PREDICTIONS) {
    it(`${p.trace}:${p.line} — ${p.why}`, async () => {
      const old = await check(p.trace, '5.6');
      const d = old.divergences.find((x) => x.line === p.line);
      expect(d, `no divergence at line ${p.line}: ${JSON.stringify(old.divergences.map((x) => x.line))}`).toBeDefined();
      expect(d!.call).toMatch(p.call);
      expect(d!.recorded).toMatch(p.recorded);
      expect(d!.model).toMatch(p.model);
      expect(d!.reason).toMatch(p.reason);
      const now = await check(p.trace, '6.3+');
      expect(now.divergences.filter((x) => x.line === p.line)).toEqual([]);
    });
  }

  it('the first divergence of each trace under 5.6 is a predicted one', async () => {
    for (const trace of new Set(PREDICTIONS.map((p) => p.trace))) {
      const r = await check(trace, '5.6');
      const first = [...r.divergences].sort((a, b) => a.seq - b.seq)[0];
      const predicted = PREDICTIONS.filter((p) => p.trace === trace).map((p) => p.line);
      // A rejected symbolic offsets write comes first in most traces: 5.6 refuses "monotonic" by name.
      expect(predicted.includes(first.line!) || /no symbolic names/.test(first.reason), `${trace}: first divergence ${first.line} ${first.reason}`).toBe(true);
    }
  });

  it('util-linux unshare --time --fork and nsenter -T agree with 5.6 (numeric clock ids, no exec switch needed)', async () => {
    for (const t of ['util-unshare-fork.strace', 'util-nsenter.strace']) expect((await check(t, '5.6')).divergences).toEqual([]);
  });

  it('a trace without any time-namespace history difference agrees under 5.6', async () => {
    expect((await check('clone-legacy-0x80.strace', '5.6')).divergences).toEqual([]);
    expect((await check('inode-reuse.strace', '5.6')).divergences).toEqual([]);
  });
});
