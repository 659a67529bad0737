// Node-level mutants: test-only subclasses of the runtime's parts, each
// re-introducing one known defect, injected through NodeDeps.classes. The
// simulator's checkers must catch every one within the suite's seed budget
// (npm run sim -- --world node --mutant NAME). Production code carries no
// mutant branches; it only exposes the seams these subclasses override.

import type { NodeClasses } from '../../../src/node/host.js';

export interface NodeMutant {
  name: string;
  /** The defect it re-introduces, and what must catch it. */
  what: string;
  classes: Partial<NodeClasses>;
}

export const NODE_MUTANTS: readonly NodeMutant[] = [];

export function nodeMutant(name: string): NodeMutant {
  const m = NODE_MUTANTS.find((x) => x.name === name);
  if (m === undefined) throw new Error(`unknown node mutant ${name}`);
  return m;
}
