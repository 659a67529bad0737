// Human and JSON renderings of the CLI's answers.
import type { ClusterStatus, MemberInfo, SequenceInfo } from '../client/index.js';
import type { MemberProbe } from './probe.js';

/** A plain-text table: a header row, then rows, columns padded to fit. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** Milliseconds for people: "12 ms", "3.4 s", "5 min". */
export function humanMs(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** A uint64 as a JSON number while it is exact, else as a string. */
function jsonInt(v: bigint): number | string {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

/** `next` output: "42", or "42..51" for a range. */
export function formatRange(first: bigint, count: number): string {
  return count === 1 ? `${first}` : `${first}..${first + BigInt(count) - 1n}`;
}

export function memberJson(m: MemberInfo): Record<string, unknown> {
  return {
    id: m.id,
    address: m.address,
    advertise: m.advertise === '' ? m.address : m.advertise,
    role: m.role,
    matchIndex: jsonInt(m.matchIndex),
    lastContactMs: m.lastContactMs,
  };
}

function selfJson(p: MemberProbe | undefined): Record<string, unknown> | null {
  if (p === undefined || !p.ok) return null;
  const m = p.self;
  return {
    role: m.role,
    term: jsonInt(m.term),
    commitIndex: jsonInt(m.commitIndex),
    appliedIndex: jsonInt(m.appliedIndex),
    leaseRemainingMs: m.leaseRemainingMs,
    valuesServed: m.valuesServed.toString(),
    valuesSkipped: m.valuesSkipped.toString(),
    commit: m.commit,
    clusterId: m.clusterId,
  };
}

/** "0.2.0 (1a2b3c4)" for the table; "?" for a member that did not say (older than the field). */
function versionText(p: MemberProbe | undefined): string {
  if (p === undefined || !p.ok) return '-';
  const { version, commit } = p.self;
  if (version === null) return '?';
  return commit === null || commit === 'unknown' ? version : `${version} (${commit.slice(0, 7)})`;
}

/**
 * `cluster status --json`. With `probes`, each member also carries `self`:
 * its own answer (term, indexes, lease, values), or null if it did not answer.
 */
export function statusJson(
  s: ClusterStatus,
  probes?: ReadonlyMap<string, MemberProbe>,
): Record<string, unknown> {
  const fromLeader = s.role === 'leader';
  return {
    leader: s.leader,
    leaderAddress: s.leaderAddress,
    term: jsonInt(s.term),
    members: s.members.map((m) => ({
      ...memberJson(m),
      ...(fromLeader
        ? { lag: jsonInt(s.commitIndex > m.matchIndex ? s.commitIndex - m.matchIndex : 0n) }
        : {}),
      ...(probes !== undefined
        ? { version: memberVersion(probes.get(m.id)), self: selfJson(probes.get(m.id)) }
        : {}),
    })),
    answeredBy: { id: s.nodeId, role: s.role, endpoint: s.endpoint },
    clusterId: s.clusterId,
    commitIndex: jsonInt(s.commitIndex),
    appliedIndex: jsonInt(s.appliedIndex),
    firstIndex: jsonInt(s.firstIndex),
    lastIndex: jsonInt(s.lastIndex),
    leaseRemainingMs: s.leaseRemainingMs,
    valuesServed: s.valuesServed.toString(),
    valuesSkipped: s.valuesSkipped.toString(),
    sequences: jsonInt(s.sequences),
    ...(s.build !== null ? { build: s.build } : {}),
  };
}

/** A member's release version as it reported it; null if it did not answer or predates the field. */
function memberVersion(p: MemberProbe | undefined): string | null {
  return p?.ok === true ? p.self.version : null;
}

/**
 * `cluster status` for people: a summary line, then one row per member. ROLE,
 * LAG (commit index minus what the member holds) and LAST CONTACT are the
 * leader's view; TERM, COMMIT, APPLIED, LEASE, SERVED and SKIPPED are each
 * member's own answer (`probes`), "-" where it did not answer.
 */
export function statusText(s: ClusterStatus, probes?: ReadonlyMap<string, MemberProbe>): string {
  const fromLeader = s.role === 'leader';
  const lines: string[] = [];
  const leader =
    s.leader === null
      ? 'none known'
      : `${s.leader}${s.leaderAddress !== null ? ` (${s.leaderAddress})` : ''}`;
  lines.push(
    `leader ${leader}   term ${s.term}   commit ${s.commitIndex}   applied ${s.appliedIndex}` +
      (fromLeader ? `   lease ${humanMs(s.leaseRemainingMs)} left` : ''),
  );
  lines.push(
    `answered by ${s.nodeId || '?'} (${s.role || '?'}) at ${s.endpoint}` +
      `   log ${s.firstIndex}..${s.lastIndex}   values served ${s.valuesServed}, skipped ${s.valuesSkipped}` +
      `   sequences ${s.sequences}` +
      (s.build !== null ? `   wire format ${s.build.clusterWireFormat} (cluster)` : '') +
      `   cluster id ${s.clusterId ?? '(none yet)'}`,
  );
  if (!fromLeader) {
    lines.push(
      s.leader === null
        ? 'no leader known: lag and last contact are unknown'
        : "the leader did not answer: this is a follower's view (no lag or last contact)",
    );
  }
  const showAdvertise = s.members.some((m) => m.advertise !== '' && m.advertise !== m.address);
  const header = [
    'ID',
    'ADDRESS',
    ...(showAdvertise ? ['ADVERTISE'] : []),
    'ROLE',
    'TERM',
    'COMMIT',
    'APPLIED',
    'LAG',
    'LAST CONTACT',
    'LEASE',
    'SERVED',
    'SKIPPED',
    'VERSION',
  ];
  const notes: string[] = [];
  const rows = s.members.map((m) => {
    const self = m.id === s.nodeId;
    const lag = s.commitIndex > m.matchIndex ? s.commitIndex - m.matchIndex : 0n;
    const probe = probes?.get(m.id);
    const own = probe?.ok === true ? probe.self : null;
    if (probe !== undefined && !probe.ok) notes.push(`${m.id}: ${probe.error}`);
    // The leader's view of the role, unless the member says it is campaigning.
    const role = own !== null && own.role.includes('candidate') ? own.role : m.role;
    return [
      m.id + (self ? '*' : ''),
      m.address,
      ...(showAdvertise ? [m.advertise || m.address] : []),
      role,
      own !== null ? `${own.term}` : '-',
      own !== null ? `${own.commitIndex}` : '-',
      own !== null ? `${own.appliedIndex}` : '-',
      fromLeader ? `${lag}` : '-',
      fromLeader && !self ? humanMs(m.lastContactMs) : '-',
      own !== null && own.role === 'leader' ? humanMs(own.leaseRemainingMs) : '-',
      own !== null ? `${own.valuesServed}` : '-',
      own !== null ? `${own.valuesSkipped}` : '-',
      versionText(probe),
    ];
  });
  return (
    lines.join('\n') +
    '\n\n' +
    table(header, rows) +
    '(* answered)\n' +
    notes.map((n) => `did not answer: ${n}\n`).join('')
  );
}

export function membersText(members: readonly MemberInfo[]): string {
  return table(
    ['ID', 'ADDRESS', 'ROLE'],
    members.map((m) => [m.id, m.address, m.role]),
  );
}

export function sequenceJson(s: SequenceInfo): Record<string, string> {
  return {
    name: s.name,
    next: s.next.toString(),
    reserved: s.reserved.toString(),
    served: s.served.toString(),
    skipped: s.skipped.toString(),
    block: s.block.toString(),
  };
}

export function sequencesText(list: readonly SequenceInfo[]): string {
  return table(
    ['NAME', 'NEXT', 'RESERVED', 'SERVED', 'SKIPPED', 'BLOCK'],
    list.map((s) => [
      s.name,
      `${s.next}`,
      `${s.reserved}`,
      `${s.served}`,
      `${s.skipped}`,
      `${s.block}`,
    ]),
  );
}

export function sequenceText(s: SequenceInfo): string {
  return table(
    ['FIELD', 'VALUE'],
    [
      ['name', s.name],
      ['next', `${s.next}`],
      ['reserved', `${s.reserved}`],
      ['served', `${s.served}`],
      ['skipped', `${s.skipped}`],
      ['block', `${s.block}`],
    ],
  )
    .split('\n')
    .slice(1)
    .join('\n');
}
