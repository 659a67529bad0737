// A separate process for LevelStorage tests that need one (another holder of
// the directory; kill -9 in the middle of writing). Run with `node --import tsx`.
//   hold <dir>:  open the store, print "ready", keep it open until killed.
//   write <dir>: print "ready", then run the crash workload (crash-workload.ts),
//                printing each write once it resolved ("persist 17",
//                "meta 10"); stops by itself after the last one.

import { LevelStorage } from '../../src/storage/level.js';
import { runWorkload } from './crash-workload.js';

const [mode, dir] = process.argv.slice(2);
const s = await LevelStorage.open(dir!);
process.stdout.write('ready\n');
if (mode === 'hold') {
  setInterval(() => {}, 1000);
} else {
  await runWorkload(s, (r) => process.stdout.write(`${r}\n`));
  await s.close();
}
