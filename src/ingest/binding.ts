/**
 * Kernel-assigned numbers seen in a trace against the model's own. The model allocates its own inode numbers
 * (proc_alloc_inum from its own base), so a namespace is known by two numbers: the model's inum and the real one
 * a trace shows (`time:[4026532176]` in a readlink text or a `-yy` fd annotation). This keeps the bijection:
 * bound on first sight, checked on every later sighting, released when the model frees the namespace (the kernel
 * reuses freed numbers, and so does the model).
 */
import type { World } from '../kernel/index.js';

export type BindResult = { ok: true; fresh: boolean } | { ok: false; reason: string };

export class InumBinding {
  private readonly m2r = new Map<number, number>();
  private readonly r2m = new Map<number, number>();

  /** The real number bound to a model namespace, if any. */
  realOf(model: number): number | undefined {
    return this.m2r.get(model);
  }

  modelOf(real: number): number | undefined {
    return this.r2m.get(real);
  }

  get size(): number {
    return this.m2r.size;
  }

  /**
   * The model says namespace `model` is where the kernel showed `real`: bind both if neither is bound, accept if
   * they are bound to each other, otherwise say which sighting contradicts which.
   */
  see(model: number, real: number, type: string): BindResult {
    const r = this.m2r.get(model);
    const m = this.r2m.get(real);
    if (r === real && m === model) return { ok: true, fresh: false };
    if (r !== undefined && r !== real)
      return { ok: false, reason: `the model's ${type} namespace was seen as ${type}:[${r}] before, now the kernel shows ${type}:[${real}]` };
    if (m !== undefined && m !== model)
      return { ok: false, reason: `the kernel's ${type}:[${real}] is a different namespace in the model than the one this call shows` };
    this.m2r.set(model, real);
    this.r2m.set(real, model);
    return { ok: true, fresh: true };
  }

  /** Forget the pairs whose model namespace no longer exists (freed: both numbers may be reused). */
  sweep(world: World): number {
    let n = 0;
    for (const [model, real] of this.m2r) {
      if (!world.namespaces[model]) {
        this.m2r.delete(model);
        if (this.r2m.get(real) === model) this.r2m.delete(real);
        n++;
      }
    }
    return n;
  }
}

/** "time:[4026532176]" → {type, inum}; null for anything else. */
export function parseNsText(text: string): { type: string; inum: number } | null {
  const m = /^([a-z_]+):\[(\d+)\]$/.exec(text);
  return m ? { type: m[1], inum: Number(m[2]) } : null;
}
