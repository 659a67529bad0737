// Errors the storage layer raises for problems an operator must act on. Each
// has a one-line message that names the data directory, because that is what
// the operator has to go and look at; the fields let callers react by type.

/** The stored state is unreadable or violates a Raft log invariant. */
export class StorageCorruptError extends Error {
  override readonly name = 'StorageCorruptError';
  constructor(
    readonly dir: string,
    /** The first bad log index, or null when the bad record is not a log entry. */
    readonly index: number | null,
    readonly reason: string,
  ) {
    super(
      index === null
        ? `data directory ${dir} is corrupt: ${reason}`
        : `data directory ${dir} is corrupt at log index ${index}: ${reason}`,
    );
  }
}

/** Another live process (or another handle in this one) has the directory open. */
export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';
  constructor(
    readonly dir: string,
    readonly pid: number | null,
  ) {
    super(`data directory ${dir} in use by ${pid === null ? 'another process' : `pid ${pid}`}`);
  }
}

/** The directory (or a record in it) was written by a newer raftseq. */
export class UnsupportedFormatError extends Error {
  override readonly name = 'UnsupportedFormatError';
  constructor(
    readonly dir: string,
    readonly what: 'directory' | 'record',
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      `data directory ${dir} was written by a newer raftseq (${what} format ${found}; ` +
        `this build reads up to ${supported})`,
    );
  }
}

/** The handle was closed or crashed; a new one must be opened. */
export class StorageClosedError extends Error {
  override readonly name = 'StorageClosedError';
  constructor(why: 'closed' | 'crashed' | 'failed') {
    super(`storage handle is ${why}`);
  }
}

/**
 * A persist call that would leave a state `load` refuses (a gap in the log,
 * entries under the snapshot, commit beyond the log). That is a bug in the
 * caller, caught before anything is written rather than at the next restart.
 */
export class InvalidPersistError extends Error {
  override readonly name = 'InvalidPersistError';
  constructor(reason: string) {
    super(`refusing to persist: ${reason}`);
  }
}
