// The printed/markdown report: the table, raftseq's ratio to each peer, the
// issue's targets (met or missed, by how much), failover and scale figures,
// and, with --compare, how far each target moved since an earlier run.
import type { FailoverResult } from './failover.js';
import type { TargetResult } from './targets.js';
import type { Row } from './types.js';

export const fmtInt = (n: number | null | undefined): string =>
  n === null || n === undefined || !Number.isFinite(n)
    ? '–'
    : Math.round(n).toLocaleString('en-US');
const fmtMs = (n: number | undefined): string =>
  n === undefined || !Number.isFinite(n) ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1);
const fmt2 = (n: number | null): string => (n === null || !Number.isFinite(n) ? '–' : n.toFixed(2));

const fmtRange = (r: Row): string =>
  r.opsPerSecRange ? `${fmtInt(r.opsPerSecRange[0])}–${fmtInt(r.opsPerSecRange[1])}` : '–';

export function rowsTable(rows: Row[]): string {
  const head =
    '| system | config | in flight | ops/s | ops/s range | ids/s | p50 ms | p99 ms | p999 ms | server CPU cores | server µs/op | client CPU cores | client µs/op | errors |\n' +
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n';
  return (
    head +
    rows
      .map(
        (r) =>
          `| ${r.system} | ${r.config} | ${r.concurrency} | ${fmtInt(r.opsPerSec)} | ${fmtRange(r)} | ${fmtInt(r.idsPerSec)} | ` +
          `${fmtMs(r.latencyMs.p50)} | ${fmtMs(r.latencyMs.p99)} | ${fmtMs(r.latencyMs.p999)} | ` +
          `${fmt2(r.serverCores)} | ${fmtInt(r.serverUsPerOp)} | ${fmt2(r.clientCores)} | ${fmtInt(r.clientUsPerOp)} | ${r.errors} |`,
      )
      .join('\n')
  );
}

/** raftseq at `c` in flight against every peer row at `c`. */
function peerRatios(rows: Row[], c: number): string {
  const mine = rows.filter(
    (r) =>
      r.system === 'raftseq' && r.concurrency === c && /count=1$|SequenceClient/.test(r.config),
  );
  const peers = rows.filter((r) => r.system !== 'raftseq' && r.concurrency === c);
  if (mine.length === 0 || peers.length === 0) return '';
  let s = `| peer (${c} in flight) | peer ops/s | ${mine.map((m) => `raftseq ${m.config}`).join(' | ')} |\n`;
  s += `|---|--:|${mine.map(() => '--:').join('|')}|\n`;
  for (const p of peers) {
    s += `| ${p.system} ${p.config} | ${fmtInt(p.opsPerSec)} | ${mine
      .map((m) => (p.opsPerSec > 0 ? `${(m.opsPerSec / p.opsPerSec).toFixed(2)}x` : '–'))
      .join(' | ')} |\n`;
  }
  return s;
}

export function formatReport(
  results: {
    date: string;
    quick: boolean;
    machine: Record<string, unknown>;
    rows: Row[];
    repeat: number;
    targets: TargetResult[];
    compared?: Comparison;
    skipped: string[];
    failover?: FailoverResult;
    countSeries?: Row[];
    fsync?: Record<string, unknown>;
    sequencesAtScale?: Record<string, unknown>;
  },
  c: number,
): string {
  const m = results.machine;
  let s = `## raftseq benchmark, ${results.date}${results.quick ? ' (--quick)' : ''}\n\n`;
  s += `Machine: ${String(m.cpus)} cores (${String(m.cpuModel)}), ${String(m.memGiB)} GiB, Node ${String(m.node)}, Linux ${String(m.kernel)}. `;
  s += 'Everything on 127.0.0.1 in one run; client and servers share the 2 cores. ';
  s += `Load average at start ${JSON.stringify(m.loadAverageAtStart)}, at end ${JSON.stringify(m.loadAverageAtEnd)}. `;
  s += `Every throughput figure is the median of ${results.repeat} run${results.repeat === 1 ? '' : 's'} in interleaved rounds (range in the table)`;
  s += m.pinned ? `; ${String(m.pinned)}.\n\n` : '.\n\n';
  for (const k of results.skipped) s += `**SKIPPED: ${k}**\n\n`;
  s += rowsTable(results.rows) + '\n\n';
  const pr = peerRatios(results.rows, c);
  if (pr) s += `### raftseq / peer (throughput ratio)\n\n${pr}\n`;
  if (results.targets.length) s += targetsTable(results.targets, results.repeat) + '\n';
  if (results.compared) s += compareTable(results.compared) + '\n';
  if (results.countSeries?.length) {
    s += `### ids/s against count (stream, ${c} in flight)\n\n| count | calls/s | ids/s | p50 ms | p99 ms |\n|--:|--:|--:|--:|--:|\n`;
    for (const r of results.countSeries) {
      s += `| ${r.config.replace(/.*count=/, '')} | ${fmtInt(r.opsPerSec)} | ${fmtInt(r.idsPerSec)} | ${fmtMs(r.latencyMs.p50)} | ${fmtMs(r.latencyMs.p99)} |\n`;
    }
    s += '\n';
  }
  if (results.fsync) {
    const f = results.fsync;
    s += `### fsyncs on the Next path (steady state, stream count=1, ${c} in flight)\n\n`;
    s += `${fmtInt(f.values as number)} values in the window; leader fsync/fdatasync calls: ${String(f.leaderFsyncs ?? '–')} `;
    s += `(${f.leaderFsyncsPer1000Values === null ? '–' : (f.leaderFsyncsPer1000Values as number).toFixed(3)} per 1,000 values); `;
    s += `Raft entries committed: ${String(f.raftEntries)} (${f.raftEntriesPer1000Values === null ? '–' : (f.raftEntriesPer1000Values as number).toFixed(3)} per 1,000 values). Method: ${String(f.method)}.\n\n`;
  }
  if (results.failover) {
    const f = results.failover;
    s += `### Failover (SequenceClient, ${f.concurrency} calls in flight, default election timeout 1000 ms)\n\n`;
    s += `kill -9 of the leader, ${f.kills.length} times: unavailability p50 ${f.killUnavailableMs.p50} ms, p99 ${f.killUnavailableMs.p99} ms, max ${f.killUnavailableMs.max} ms; `;
    s += `values skipped per failover p50 ${f.killSkipped.p50}, max ${f.killSkipped.max}, mean ${f.killSkipped.mean}; `;
    s += `in seconds of the sequence's own traffic p50 ${f.killWasteSeconds.p50.toFixed(2)} s, max ${f.killWasteSeconds.max.toFixed(2)} s.\n`;
    s += `Rounds: ${f.kills.map((r) => `${r.unavailableMs} ms/${r.skipped}/${r.wasteSeconds.toFixed(2)} s`).join(', ')} (unavailable/skipped/skipped in seconds of traffic).\n\n`;
    s += `SIGTERM of the leader (graceful hand-over): ${f.graceful.map((r) => `unavailable ${r.unavailableMs} ms, skipped ${r.skipped}`).join('; ')}.\n\n`;
  }
  if (results.sequencesAtScale) {
    const q = results.sequencesAtScale;
    s += `### Many sequences\n\n${fmtInt(q.sequences as number)} sequences created with count=1 Next calls (SequenceClient, 256 in flight) in ${String(q.createSeconds)} s (${fmtInt(q.createPerSec as number)}/s, ${String(q.errors)} errors). `;
    s += `Largest node RSS ${String(q.maxRssMiB)} MiB (after restart ${String(q.maxRssAfterRestartMiB)} MiB); data directories ${String(q.dataDirsMiB)} MiB in all; `;
    s += `graceful stop of all 3 nodes ${String(q.gracefulStopAllMs)} ms; restart of all 3 until a Next is served ${String(q.restartToServingMs)} ms; `;
    s += `a new member on an empty directory caught up and voting ${q.newMemberCatchUpMs === null ? '(failed)' : `${String(q.newMemberCatchUpMs)} ms`} after AddMember. `;
    s += `While creating: leader RSS peak ${mbText(q.peakRssBytes)}, ${String(q.electionsWhileCreating)} elections, ${String(q.leaseLossesWhileCreating)} Next calls refused for want of a lease; `;
    s += `leader heap ${q.heapBytesPerSequence === null ? '–' : `${fmtInt(q.heapBytesPerSequence as number)} bytes`} per sequence (JS heap used plus external memory such as typed arrays, after creating them, less before). Leader RSS at rest ${mbText(q.restRssBytes)}, idle 10 s later ${mbText(q.idleRssBytes)}.\n`;
  }
  return s;
}

const mbText = (bytes: unknown): string =>
  typeof bytes === 'number' ? `${(bytes / 1e6).toFixed(0)} MB` : '–';

function fmtValue(v: number | null, unit: TargetResult['unit']): string {
  if (v === null || !Number.isFinite(v)) return '–';
  if (unit === 'x') return `${v.toFixed(2)}x`;
  if (unit === 's') return `${v.toFixed(2)} s`;
  if (unit === 'per 1,000 values') return `${v.toFixed(3)} ${unit}`;
  if (unit === 'count') return fmtInt(v);
  return `${fmtInt(v)} ${unit}`;
}

/** How far a figure is from its goal, as a share of the goal ("88% of goal", "2.1x the bound"). */
function missedBy(t: TargetResult): string {
  if (t.value === null || t.met !== false) return '';
  if (t.goal === 0) return ` (${fmtValue(t.value, t.unit)} against none allowed)`;
  return t.bound === 'min'
    ? ` (${((t.value / t.goal) * 100).toFixed(0)}% of goal)`
    : ` (${(t.value / t.goal).toFixed(2)}x the bound)`;
}

export function targetsTable(targets: readonly TargetResult[], repeat: number): string {
  let s = `### Targets of issue 13 (ratios: median over ${repeat} rounds, each ratio within one round)\n\n`;
  s +=
    '| part | target | measured | range over rounds | by CPU cost | goal | met |\n' +
    '|---|---|--:|--:|--:|--:|---|\n';
  for (const t of targets) {
    const range = t.range
      ? `${fmtValue(t.range[0], t.unit)} – ${fmtValue(t.range[1], t.unit)}`
      : '–';
    const cost = t.costRatio === undefined ? '' : fmtValue(t.costRatio, 'x');
    const goal = `${t.bound === 'min' ? '≥' : '≤'} ${fmtValue(t.goal, t.unit)}`;
    const met = t.met === null ? 'not measured' : t.met ? 'met' : `**missed**${missedBy(t)}`;
    s += `| ${t.group} | ${t.what} | ${fmtValue(t.value, t.unit)} | ${range} | ${cost} | ${goal} | ${met} |\n`;
  }
  s +=
    '\n"By CPU cost": (server + client CPU per op of the second) / (that of the first), the ' +
    'ratio if both were bound by the CPU they use; other processes on the machine move it far ' +
    'less than they move throughput.\n';
  return s;
}

/** Each target's figure against the same target in an earlier run. */
export interface Comparison {
  file: string;
  rows: { what: string; then: number; now: number; change: number }[];
  /** The largest relative change among ratio targets, by throughput and by CPU cost. */
  worstRatioChange: number;
  worstCostRatioChange: number;
}

export function compareTargets(
  file: string,
  then: readonly TargetResult[],
  now: readonly TargetResult[],
): Comparison {
  const rows: Comparison['rows'] = [];
  const costRows: Comparison['rows'] = [];
  for (const t of now) {
    const old = then.find((x) => x.what === t.what && x.group === t.group);
    if (old?.value == null || t.value === null || old.value === 0) continue;
    rows.push({ what: t.what, then: old.value, now: t.value, change: t.value / old.value - 1 });
    if (old.costRatio != null && t.costRatio != null && old.costRatio !== 0) {
      const what = `${t.what}, by CPU cost`;
      costRows.push({
        what,
        then: old.costRatio,
        now: t.costRatio,
        change: t.costRatio / old.costRatio - 1,
      });
    }
  }
  const worst = (list: Comparison['rows']): number => {
    const changes = list
      .filter((r) => now.find((t) => r.what.startsWith(t.what))?.unit === 'x')
      .map((r) => Math.abs(r.change));
    return changes.length ? Math.max(...changes) : NaN;
  };
  return {
    file,
    rows: [...rows, ...costRows],
    worstRatioChange: worst(rows),
    worstCostRatioChange: worst(costRows),
  };
}

export function compareTable(c: Comparison): string {
  let s = `### Against ${c.file}\n\n| target | then | now | change |\n|---|--:|--:|--:|\n`;
  for (const r of c.rows) {
    s += `| ${r.what} | ${r.then.toFixed(3)} | ${r.now.toFixed(3)} | ${(r.change * 100).toFixed(1)}% |\n`;
  }
  const verdict = (x: number): string =>
    `${(x * 100).toFixed(1)}% (${x <= 0.15 ? 'within' : '**outside**'} the 15% two consecutive quick runs should stay within)`;
  s += `\nLargest change of a ratio target: by throughput ${verdict(c.worstRatioChange)}; `;
  s += `by CPU cost ${verdict(c.worstCostRatioChange)}.\n`;
  return s;
}
