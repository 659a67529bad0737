// A separate process for LevelStorage tests that need one (another holder of
// the directory; kill -9 in the middle of writing). Run with `node --import tsx`.
//   hold <dir>:  open the store, print "ready", keep it open until killed.
//   write <dir>: persist one entry per call, printing each index once its
//                persist resolved; stops by itself after 5000 entries.

import { LevelStorage } from '../../src/storage/level.js';

const [mode, dir] = process.argv.slice(2);
const s = await LevelStorage.open(dir!);
if (mode === 'hold') {
  process.stdout.write('ready\n');
  setInterval(() => {}, 1000);
} else {
  process.stdout.write('ready\n');
  for (let i = 1; i <= 5000; i++) {
    await s.persist([
      {
        snapshot: null,
        compacted: null,
        entries: [{ index: i, term: 1, type: 'normal', data: new Uint8Array(64) }],
        hardState: { term: 1, vote: 'n1', commit: i },
      },
    ]);
    process.stdout.write(`${i}\n`);
  }
  await s.close();
}
