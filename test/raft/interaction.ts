// Scripted interaction tests with golden output, in the style of etcd-io/raft's
// testdata/*.txt (cockroachdb/datadriven). A file is a list of blocks:
//
//   # comments (kept on rewrite)
//   command arg arg key=value
//   ----
//   output, one or more lines (never blank)
//
// separated by blank lines. interaction.test.ts runs every file under
// test/raft/testdata and compares the output; to regenerate the files after
// an intended change (npm scripts cannot pass --rewrite through vitest, so it
// is an environment variable; "test:rewrite" would be this command):
//
//   RAFTSEQ_REWRITE=1 npx vitest run test/raft/interaction
//
// and read the diff before committing it: a golden file that records a bug is
// worse than none.
//
// Commands (node ids are names such as n1):
//   cluster n1 n2 n3 [prevote=false] [checkquorum=false] [election=10]
//                    [heartbeat=1] [seed=1] [max-entries=256]
//       a new cluster, bootstrapped with those voters. Every node refuses votes
//       for an election timeout after it starts; the command ticks every node
//       through that window (messages dropped) so elections can run at once.
//   campaign n1              start an election on n1 now
//   tick n1 [k]              tick n1 k times (default 1)
//   tick-all [k]             tick every node k times
//   tick-election n1         tick n1 until it campaigns or its role or term
//                            changes (at most 2 * election ticks)
//   propose n1 data          propose an entry on n1
//   deliver [drop=n2,n3]     deliver every queued message once, dropping those
//                            addressed to the listed nodes; each message is
//                            followed by its effects (indented)
//   stabilize                deliver until no message is left
//   isolate n1 / heal        cut every link to n1 / restore all links
//   transfer n1 n3           n1 hands leadership to n3
//   add-learner n1 n4        n1 proposes adding n4 (an empty node is created)
//   promote n1 n4            n1 proposes making learner n4 a voter
//   remove n1 n2             n1 proposes removing n2
//   compact n1 idx           n1 compacts its log up to idx
//   status n1 / log n1       n1's state / n1's durable log
//   restart n1               n1 loses what it did not persist and restarts

import { readFileSync, writeFileSync } from 'node:fs';
import type { Entry, Message, NodeId, RaftConfig } from '../../src/raft/index.js';
import { Cluster, dec, enc, type TestNode } from './harness.js';

// ------------------------------------------------------------------ formatting

export function formatEntry(e: Entry): string {
  const id = `${e.index}@${e.term}`;
  if (e.type === 'conf' && e.change) return `${id} ${e.change.type}(${e.change.id})`;
  if (e.data.length === 0) return `${id} noop`;
  return `${id} ${JSON.stringify(dec(e.data))}`;
}

export function formatMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} term=${m.term}`;
  switch (m.type) {
    case 'vote':
    case 'pre-vote':
      return `${head} last=${m.lastLogIndex}@${m.lastLogTerm}${m.transfer ? ' transfer' : ''}`;
    case 'vote-resp':
    case 'pre-vote-resp':
      return `${head} ${m.granted ? 'granted' : 'rejected'}${m.unverified === true ? ' unverified' : ''}`;
    case 'append':
      return `${head} prev=${m.prevLogIndex}@${m.prevLogTerm} commit=${m.commit} entries=[${m.entries
        .map(formatEntry)
        .join(', ')}]`;
    case 'append-resp':
      return m.success
        ? `${head} ok index=${m.index}`
        : `${head} rejected index=${m.index} hint=${m.hintIndex}@${m.hintTerm}`;
    case 'heartbeat':
      return `${head} commit=${m.commit}`;
    case 'heartbeat-resp':
    case 'timeout-now':
      return head;
    case 'snapshot': {
      const s = m.snapshot.meta;
      return `${head} snapshot=${s.index}@${s.term} voters=[${s.conf.voters.join(',')}] learners=[${s.conf.learners.join(',')}]`;
    }
  }
}

/** Identical lines collapsed to the first one with a count. */
function collapse(lines: string[]): string[] {
  const counts = new Map<string, number>();
  for (const l of lines) counts.set(l, (counts.get(l) ?? 0) + 1);
  return [...counts].map(([l, n]) => (n > 1 ? `${l} (x${n})` : l));
}

// ------------------------------------------------------------------ files

export interface Block {
  comments: string[];
  command: string;
  expected: string[] | null;
}

export function parse(text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const comments: string[] = [];
    // Comments and blank lines up to the next command belong to it.
    while (i < lines.length && ((lines[i] as string).trim() === '' || lines[i]?.startsWith('#'))) {
      if (lines[i]?.startsWith('#')) comments.push(lines[i] as string);
      i++;
    }
    if (i >= lines.length) break;
    const command = (lines[i] as string).trim();
    i++;
    let expected: string[] | null = null;
    if (lines[i] === '----') {
      i++;
      expected = [];
      while (i < lines.length && (lines[i] as string) !== '') expected.push(lines[i++] as string);
    }
    blocks.push({ comments, command, expected });
  }
  return blocks;
}

export function render(blocks: Block[], outputs: string[][]): string {
  return (
    blocks
      .map((b, k) => [...b.comments, b.command, '----', ...(outputs[k] ?? [])].join('\n'))
      .join('\n\n') + '\n'
  );
}

// ------------------------------------------------------------------ interpreter

interface View {
  state: string;
  commit: number;
  conf: string;
  applied: number;
  snapshot: number;
}

export class Interpreter {
  private c: Cluster | null = null;
  private views = new Map<NodeId, View>();

  private cluster(): Cluster {
    if (this.c === null) throw new Error('no cluster: start with "cluster n1 n2 n3"');
    return this.c;
  }

  run(line: string): string[] {
    const [cmd, ...rest] = line.split(/\s+/);
    const args = rest.filter((a) => !a.includes('='));
    const opts = new Map(
      rest.filter((a) => a.includes('=')).map((a) => a.split('=', 2) as [string, string]),
    );
    const arg = (k: number): string => {
      const a = args[k];
      if (a === undefined) throw new Error(`${cmd}: missing argument ${k + 1}`);
      return a;
    };
    const out = this.exec(cmd ?? '', arg, args, opts);
    return out.length > 0 ? out : ['ok'];
  }

  private exec(
    cmd: string,
    arg: (k: number) => string,
    args: string[],
    opts: Map<string, string>,
  ): string[] {
    switch (cmd) {
      case 'cluster':
        return this.newCluster(args, opts);
      case 'campaign':
        return this.act(arg(0), (c) => c.raft(arg(0)).campaign());
      case 'tick':
        return this.act(arg(0), (c) => {
          for (let i = 0; i < Number(args[1] ?? 1); i++) c.raft(arg(0)).tick();
        });
      case 'tick-all': {
        const c = this.cluster();
        const out: string[] = [];
        const k = Number(args[0] ?? 1);
        for (const id of c.nodes.keys())
          out.push(
            ...this.act(id, () => {
              for (let i = 0; i < k; i++) c.raft(id).tick();
            }),
          );
        return out;
      }
      case 'tick-election':
        return this.tickElection(arg(0));
      case 'propose':
        return this.act(arg(0), (c) => {
          const r = c.raft(arg(0)).propose(enc(arg(1)));
          return [r.ok ? `proposed ${r.index}@${r.term}` : `refused: ${r.reason}`];
        });
      case 'deliver':
        return this.deliver(new Set((opts.get('drop') ?? '').split(',').filter(Boolean)));
      case 'stabilize': {
        const out: string[] = [];
        for (let i = 0; i < 100; i++) {
          this.cluster().processReadies();
          if (this.cluster().queue.length === 0) return out;
          out.push(...this.deliver(new Set()));
        }
        throw new Error('stabilize: no end in sight');
      }
      case 'isolate':
        this.cluster().isolate(arg(0));
        return [`${arg(0)} isolated`];
      case 'heal':
        this.cluster().heal();
        return ['all links restored'];
      case 'transfer':
        return this.act(arg(0), (c) => [
          c.raft(arg(0)).transferLeadership(arg(1)) ? 'transfer started' : 'transfer refused',
        ]);
      case 'add-learner':
      case 'promote':
      case 'remove':
        return this.act(arg(0), (c) => {
          if (cmd === 'add-learner' && !c.nodes.has(arg(1))) {
            c.addEmptyNode(arg(1));
            this.views.set(arg(1), this.view(c.node(arg(1))));
          }
          const r = c
            .raft(arg(0))
            .proposeConfChange({ type: cmd, id: arg(1), context: new Uint8Array(0) });
          return [
            r.ok ? `proposed ${r.index}@${r.term} ${cmd}(${arg(1)})` : `refused: ${r.reason}`,
          ];
        });
      case 'compact':
        return this.act(arg(0), (c) => {
          const idx = Number(arg(1));
          c.raft(arg(0)).compact(idx, enc(`state@${idx}`));
          return [`compacted to ${idx}`];
        });
      case 'status':
        return this.status(arg(0));
      case 'log':
        return this.log(arg(0));
      case 'restart':
        return this.act(arg(0), (c) => {
          c.node(arg(0)).restart();
          const d = c.node(arg(0)).durable;
          return [
            `${arg(0)} restarted: term=${d.hardState.term} vote=${d.hardState.vote ?? '-'} commit=${d.hardState.commit}`,
          ];
        });
      default:
        throw new Error(`unknown command ${cmd}`);
    }
  }

  private newCluster(ids: string[], opts: Map<string, string>): string[] {
    const cfg: Partial<Omit<RaftConfig, 'id' | 'rng'>> = {
      electionTick: Number(opts.get('election') ?? 10),
      heartbeatTick: Number(opts.get('heartbeat') ?? 1),
      preVote: opts.get('prevote') !== 'false',
      checkQuorum: opts.get('checkquorum') !== 'false',
    };
    if (opts.has('max-entries')) cfg.maxEntriesPerMsg = Number(opts.get('max-entries'));
    const c = new Cluster(ids, cfg, Number(opts.get('seed') ?? 1));
    c.passStartWindow();
    this.c = c;
    this.views.clear();
    for (const n of c.nodes.values()) this.views.set(n.id, this.view(n));
    return [
      `${ids.length} nodes, election=${cfg.electionTick} heartbeat=${cfg.heartbeatTick} prevote=${cfg.preVote} checkquorum=${cfg.checkQuorum}`,
      ...ids.map((id) => `${id}: ${this.views.get(id)?.state} (tick ${c.raft(id).tickNow})`),
    ];
  }

  private view(n: TestNode): View {
    const st = n.raft.status();
    return {
      state: `${st.role} term=${st.term} leader=${st.leader ?? '-'}`,
      commit: st.commit,
      conf: `voters=[${st.conf.voters.join(',')}] learners=[${st.conf.learners.join(',')}]`,
      applied: n.applied.length,
      snapshot: n.appliedSnapshot?.meta.index ?? 0,
    };
  }

  /** Process `id`'s Readies and describe what changed and what it sent. */
  private effects(id: NodeId, indent: string): string[] {
    const c = this.cluster();
    const n = c.node(id);
    const sent = c.processNode(n);
    const out: string[] = [];
    const before = this.views.get(id) as View;
    const after = this.view(n);
    if (after.state !== before.state) out.push(`${id}: ${after.state}`);
    if (after.snapshot !== before.snapshot) {
      const s = n.appliedSnapshot?.meta;
      out.push(`${id}: restored snapshot ${s?.index}@${s?.term}`);
    }
    if (after.conf !== before.conf) out.push(`${id}: ${after.conf}`);
    if (after.commit !== before.commit)
      out.push(`${id}: commit ${before.commit} -> ${after.commit}`);
    const from = after.snapshot !== before.snapshot ? 0 : before.applied;
    const applied = n.applied.slice(from);
    if (applied.length > 0) out.push(`${id}: applied ${applied.map(formatEntry).join(', ')}`);
    this.views.set(id, after);
    out.push(...collapse(sent.map(formatMessage)));
    return out.map((l) => indent + l);
  }

  /** Run an action on node `id` and report its effects. */
  private act(id: NodeId, fn: (c: Cluster) => string[] | void): string[] {
    const c = this.cluster();
    c.node(id);
    const head = fn(c) ?? [];
    return [...head, ...this.effects(id, '')];
  }

  private tickElection(id: NodeId): string[] {
    const c = this.cluster();
    const n = c.raft(id);
    const start = n.status();
    const limit = 2 * c.config().electionTick;
    const lines: string[] = [];
    let k = 0;
    while (k < limit) {
      n.tick();
      k++;
      const step = this.effects(id, '');
      lines.push(...step);
      const st = n.status();
      if (st.role !== start.role || st.term !== start.term) break;
      if (step.some((l) => / (pre-)?vote term=/.test(l))) break;
    }
    return [`ticked ${k}`, ...collapse(lines)];
  }

  private deliver(drop: Set<NodeId>): string[] {
    const c = this.cluster();
    c.processReadies();
    const batch = c.queue;
    c.queue = [];
    const out: string[] = [];
    for (const m of batch) {
      const line = formatMessage(m);
      if (drop.has(m.to)) {
        out.push(`${line} (dropped)`);
        continue;
      }
      if (c.cut.has(`${m.from}->${m.to}`)) {
        out.push(`${line} (dropped: partition)`);
        continue;
      }
      const target = c.nodes.get(m.to);
      if (target === undefined) {
        out.push(`${line} (dropped: no such node)`);
        continue;
      }
      out.push(line);
      target.raft.step(m);
      out.push(...this.effects(m.to, '  '));
    }
    return out;
  }

  private status(id: NodeId): string[] {
    const c = this.cluster();
    const st = c.raft(id).status();
    const out = [
      `${id}: ${st.role} term=${st.term} vote=${st.vote ?? '-'} leader=${st.leader ?? '-'} commit=${st.commit} applied=${st.applied} log=${st.firstIndex}..${st.lastIndex} tick=${st.tick}`,
      `  voters=[${st.conf.voters.join(',')}] learners=[${st.conf.learners.join(',')}]`,
    ];
    if (st.role === 'leader') {
      const lease = c.raft(id).lease();
      out.push(
        lease === null
          ? '  lease: none'
          : lease.validUntilTick > st.tick
            ? `  lease: valid until tick ${lease.validUntilTick}`
            : `  lease: expired at tick ${lease.validUntilTick}`,
      );
      if (st.leadTransferee !== null) out.push(`  transferring to ${st.leadTransferee}`);
      for (const p of st.progress)
        if (p.id !== id)
          out.push(
            `  ${p.id}: ${p.voter ? 'voter' : 'learner'} match=${p.match} next=${p.next} ${p.state}`,
          );
    }
    return out;
  }

  private log(id: NodeId): string[] {
    const d = this.cluster().node(id).durable;
    const s = d.snapshot.meta;
    return [
      `${id}: snapshot ${s.index}@${s.term}, commit=${d.hardState.commit}`,
      ...d.entries.map((e) => `  ${formatEntry(e)}`),
    ];
  }
}

// ------------------------------------------------------------------ driver

/** Run a testdata file; returns the expected and actual renderings. */
export function runFile(path: string): { expected: string; actual: string } {
  const expected = readFileSync(path, 'utf8');
  const blocks = parse(expected);
  const it = new Interpreter();
  const outputs = blocks.map((b) => {
    try {
      return it.run(b.command);
    } catch (e) {
      return [`error: ${(e as Error).message}`];
    }
  });
  return { expected, actual: render(blocks, outputs) };
}

export function rewriteFile(path: string): void {
  writeFileSync(path, runFile(path).actual);
}
