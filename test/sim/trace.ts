// The event trace: a ring buffer of the last N events, formatted lazily (only
// when a violation is reported, or at once with --verbose), so that tracing
// costs almost nothing on the fast path.

import type { Entry, Message, NodeId, Ready } from '../../src/raft/types.js';

/** A durable write that completed, formatted on demand. */
interface Fsync {
  fsync: Ready;
  node: NodeId;
}

type Item = string | Message | Fsync;

export class Trace {
  private readonly times: number[];
  private readonly items: Item[];
  private next = 0;
  private count = 0;

  constructor(
    private readonly capacity: number,
    private readonly verbose: ((line: string) => void) | null,
  ) {
    this.times = new Array<number>(capacity).fill(0);
    this.items = new Array<Item>(capacity).fill('');
  }

  add(time: number, text: string): void {
    this.push(time, text);
  }

  /** A message delivery: formatted later. */
  msg(time: number, msg: Message): void {
    this.push(time, msg);
  }

  /** A completed fsync of a Ready's persistent part: formatted later. */
  fsync(time: number, node: NodeId, rd: Ready): void {
    this.push(time, { fsync: rd, node });
  }

  private push(time: number, item: Item): void {
    this.times[this.next] = time;
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
    if (this.verbose) this.verbose(format(time, item));
  }

  lines(): string[] {
    const out: string[] = [];
    const start = (this.next - this.count + this.capacity) % this.capacity;
    for (let i = 0; i < this.count; i++) {
      const j = (start + i) % this.capacity;
      out.push(format(this.times[j] as number, this.items[j] as Item));
    }
    return out;
  }
}

function format(time: number, item: Item): string {
  const t = `t=${time}`;
  if (typeof item === 'string') return `${t} ${item}`;
  if ('fsync' in item)
    return `${t} ${item.node} fsync ready#${item.fsync.number}: ${formatPersist(item.fsync)}`;
  return `${t} ${formatMessage(item)}`;
}

export function formatPersist(rd: Ready): string {
  const n = rd.entries.length;
  const first = rd.entries[0] as Entry | undefined;
  const last = rd.entries[n - 1] as Entry | undefined;
  return [
    rd.snapshot ? `snapshot ${rd.snapshot.meta.index}/${rd.snapshot.meta.term}` : '',
    rd.compacted ? `compacted to ${rd.compacted.meta.index}` : '',
    first && last
      ? `entries ${first.index}..${last.index} (terms ${termsOf(rd.entries).trim().slice(6)})`
      : '',
    rd.hardState
      ? `hard state term ${rd.hardState.term} vote ${rd.hardState.vote} commit ${rd.hardState.commit}`
      : '',
  ]
    .filter((x) => x)
    .join(', ');
}

export function formatMessage(m: Message): string {
  const head = `${m.from} -> ${m.to} `;
  switch (m.type) {
    case 'append': {
      const n = m.entries.length;
      const range =
        n === 0
          ? ''
          : ` [${(m.entries[0] as { index: number }).index}..${(m.entries[n - 1] as { index: number }).index}]`;
      return `${head}append(term ${m.term}, prev ${m.prevLogIndex}/${m.prevLogTerm}, ${n} entries${range}${termsOf(m.entries)}, commit ${m.commit})`;
    }
    case 'append-resp':
      return m.success
        ? `${head}append-resp(term ${m.term}, ok, index ${m.index})`
        : `${head}append-resp(term ${m.term}, reject ${m.index}, hint ${m.hintIndex}/${m.hintTerm})`;
    case 'heartbeat':
      return `${head}heartbeat(term ${m.term}, commit ${m.commit}, sent ${m.sentTick})`;
    case 'heartbeat-resp':
      return `${head}heartbeat-resp(term ${m.term}, sent ${m.sentTick})`;
    case 'vote':
    case 'pre-vote':
      return `${head}${m.type}(term ${m.term}, last ${m.lastLogIndex}/${m.lastLogTerm}${m.transfer ? ', transfer' : ''})`;
    case 'vote-resp':
    case 'pre-vote-resp':
      return `${head}${m.type}(term ${m.term}, ${m.granted ? 'granted' : 'rejected'})`;
    case 'snapshot':
      return `${head}snapshot(term ${m.term}, ${m.snapshot.meta.index}/${m.snapshot.meta.term}, voters ${m.snapshot.meta.conf.voters.join(',')})`;
    case 'timeout-now':
      return `${head}timeout-now(term ${m.term})`;
  }
}

function termsOf(entries: { term: number }[]): string {
  if (entries.length === 0) return '';
  const terms = [...new Set(entries.map((e) => e.term))];
  return ` terms ${terms.join(',')}`;
}
