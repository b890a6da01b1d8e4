/** Text trees (├─ └─ │), for process trees and the like. No dependencies. */
export interface TreeNode {
  label: string;
  /** Extra lines shown under the label, indented with the node's children guide. */
  details?: string[];
  children?: TreeNode[];
}

export function renderTree(roots: TreeNode[], indent = ''): string {
  const out: string[] = [];
  const walk = (node: TreeNode, prefix: string, childPrefix: string) => {
    out.push(prefix + node.label);
    const kids = node.children ?? [];
    for (const d of node.details ?? []) out.push(`${childPrefix}${kids.length ? '│ ' : '  '} ${d}`);
    kids.forEach((k, i) => {
      const last = i === kids.length - 1;
      walk(k, childPrefix + (last ? '└─ ' : '├─ '), childPrefix + (last ? '   ' : '│  '));
    });
  };
  for (const r of roots) walk(r, indent, indent);
  return out.join('\n');
}
