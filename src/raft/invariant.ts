/** Thrown when the core reaches a state that Raft says is impossible. */
export class RaftInvariantError extends Error {
  override name = 'RaftInvariantError';
}

export function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new RaftInvariantError(message);
}
