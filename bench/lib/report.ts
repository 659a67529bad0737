// The printed/markdown report: the table, raftseq's ratio to each peer, the
// issue's targets (met or missed, by how much), failover and scale figures.
import type { FailoverResult } from './failover.js';
import type { Row } from './types.js';

export interface Ratio {
  what: string;
  raftseq: number;
  peer: number | null;
  ratio: number | null;
  goal: number;
  met: boolean | null;
}

const find = (rows: Row[], system: string, config: RegExp, c: number | null): Row | undefined =>
  rows
    .filter(
      (r) => r.system === system && config.test(r.config) && (c === null || r.concurrency === c),
    )
    .sort((a, b) => b.opsPerSec - a.opsPerSec)[0];

/** The issue's targets, measured in this run. */
export function ratios(rows: Row[], c: number): Ratio[] {
  const out: Ratio[] = [];
  const unary = find(rows, 'raftseq', /^unary count=1$/, c);
  const stream = find(rows, 'raftseq', /^stream \d+ count=1$/, c);
  const vs = (what: string, mine: Row | undefined, peer: Row | undefined, goal: number): void => {
    if (!mine) return;
    const ratio = peer && peer.opsPerSec > 0 ? mine.opsPerSec / peer.opsPerSec : null;
    out.push({
      what,
      raftseq: mine.opsPerSec,
      peer: peer?.opsPerSec ?? null,
      ratio,
      goal,
      met: ratio === null ? null : ratio >= goal,
    });
  };
  vs(
    `unary Next(1) vs grpc-js unary, ${c} in flight`,
    unary,
    find(rows, 'grpc-js trivial', /^unary$/, c),
    0.9,
  );
  vs(
    `unary Next(1) vs etcd put-as-counter, ${c} in flight`,
    unary,
    find(rows, 'etcd', /^put/, c),
    2,
  );
  vs(`unary Next(1) vs etcd CAS, ${c} in flight`, unary, find(rows, 'etcd', /^CAS/, c), 80);
  vs(
    `stream Next(1) vs grpc-js bidi, ${c} in flight`,
    stream,
    find(rows, 'grpc-js trivial', /^bidi/, c),
    0.8,
  );
  vs(
    `stream Next(1) vs PostgreSQL nextval CACHE 1, ${c} in flight`,
    stream,
    find(rows, 'PostgreSQL', /CACHE 1$/, c),
    1,
  );
  const bulk = find(rows, 'raftseq', /count=1000$/, null);
  if (bulk) {
    out.push({
      what: `Next(count=1000) ids/s (best: ${bulk.config}, ${bulk.concurrency} in flight)`,
      raftseq: bulk.idsPerSec,
      peer: null,
      ratio: null,
      goal: 5_000_000,
      met: bulk.idsPerSec >= 5_000_000,
    });
  }
  // By ids/s: a tryNext() batch row hands out many ids per measured op.
  const lease = rows
    .filter((r) => r.system === 'raftseq' && /lease/.test(r.config))
    .sort((a, b) => b.idsPerSec - a.idsPerSec)[0];
  if (lease) {
    out.push({
      what: `client lease ids/s in-process (best: ${lease.config})`,
      raftseq: lease.idsPerSec,
      peer: null,
      ratio: null,
      goal: 10_000_000,
      met: lease.idsPerSec >= 10_000_000,
    });
  }
  return out;
}

export const fmtInt = (n: number | null | undefined): string =>
  n === null || n === undefined || !Number.isFinite(n)
    ? '–'
    : Math.round(n).toLocaleString('en-US');
const fmtMs = (n: number | undefined): string =>
  n === undefined || !Number.isFinite(n) ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1);
const fmt2 = (n: number | null): string => (n === null || !Number.isFinite(n) ? '–' : n.toFixed(2));

export function rowsTable(rows: Row[]): string {
  const head =
    '| system | config | in flight | ops/s | ids/s | p50 ms | p99 ms | p999 ms | server CPU cores | server µs/op | client CPU cores | client µs/op | errors |\n' +
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n';
  return (
    head +
    rows
      .map(
        (r) =>
          `| ${r.system} | ${r.config} | ${r.concurrency} | ${fmtInt(r.opsPerSec)} | ${fmtInt(r.idsPerSec)} | ` +
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
  s += `Load average at start ${JSON.stringify(m.loadAverageAtStart)}, at end ${JSON.stringify(m.loadAverageAtEnd)}.\n\n`;
  for (const k of results.skipped) s += `**SKIPPED: ${k}**\n\n`;
  s += rowsTable(results.rows) + '\n\n';
  const pr = peerRatios(results.rows, c);
  if (pr) s += `### raftseq / peer (throughput ratio)\n\n${pr}\n`;
  const t = ratios(results.rows, c);
  if (t.length) {
    s +=
      '### Targets of issue 6\n\n| target | raftseq | peer | ratio | goal | met |\n|---|--:|--:|--:|--:|---|\n';
    for (const x of t) {
      s += `| ${x.what} | ${fmtInt(x.raftseq)} | ${fmtInt(x.peer)} | ${x.ratio === null ? '–' : x.ratio.toFixed(2) + 'x'} | ${x.goal >= 1000 ? fmtInt(x.goal) : x.goal + 'x'} | ${x.met === null ? '?' : x.met ? 'yes' : `**no** (${x.ratio !== null ? ((x.ratio / x.goal) * 100).toFixed(0) : ((x.raftseq / x.goal) * 100).toFixed(0)}% of goal)`} |\n`;
    }
    s += '\n';
  }
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
    s += `kill -9 of the leader, ${f.kills.length} times: unavailability p50 ${f.killUnavailableMs.p50} ms, max ${f.killUnavailableMs.max} ms; `;
    s += `values skipped per failover p50 ${f.killSkipped.p50}, max ${f.killSkipped.max}, mean ${f.killSkipped.mean}.\n`;
    s += `Rounds: ${f.kills.map((r) => `${r.unavailableMs} ms/${r.skipped}`).join(', ')} (unavailable/skipped).\n\n`;
    s += `SIGTERM of the leader (graceful hand-over): ${f.graceful.map((r) => `unavailable ${r.unavailableMs} ms, skipped ${r.skipped}`).join('; ')}.\n\n`;
  }
  if (results.sequencesAtScale) {
    const q = results.sequencesAtScale;
    s += `### Many sequences\n\n${fmtInt(q.sequences as number)} sequences created with count=1 Next calls (SequenceClient, 256 in flight) in ${String(q.createSeconds)} s (${fmtInt(q.createPerSec as number)}/s, ${String(q.errors)} errors). `;
    s += `Largest node RSS ${String(q.maxRssMiB)} MiB (after restart ${String(q.maxRssAfterRestartMiB)} MiB); data directories ${String(q.dataDirsMiB)} MiB in all; `;
    s += `graceful stop of all 3 nodes ${String(q.gracefulStopAllMs)} ms; restart of all 3 until a Next is served ${String(q.restartToServingMs)} ms; `;
    s += `a new member on an empty directory caught up and voting ${q.newMemberCatchUpMs === null ? '(failed)' : `${String(q.newMemberCatchUpMs)} ms`} after AddMember.\n`;
  }
  return s;
}
