// The public entry point of the `raftseq` package:
//   import { SequenceClient } from 'raftseq';
export * from './client/index.js';
