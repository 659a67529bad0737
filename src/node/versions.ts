// What a node reports about its build and formats (Status, metrics, the
// status page): the release and commit, the on-disk formats, and the Raft
// wire formats, including the cluster's, which is the lowest its voters
// share as this node's links know them (src/transport/formats.ts).

import { buildInfo, type NodeVersions } from '../common/build-info.js';
import type { NodeId } from '../raft/index.js';
import { DIR_FORMAT, RECORD_FORMAT } from '../storage/formats.js';
import { MIN_WIRE_FORMAT, WIRE_FORMAT, clusterFormat } from '../transport/formats.js';
import type { LinkStats } from '../transport/transport.js';

export type { NodeVersions } from '../common/build-info.js';

export function nodeVersions(
  self: NodeId,
  voters: readonly NodeId[],
  links: Readonly<Record<NodeId, LinkStats>>,
): NodeVersions {
  const { version, commit } = buildInfo();
  return {
    version,
    commit,
    storageFormat: DIR_FORMAT,
    recordFormat: RECORD_FORMAT,
    wireFormat: WIRE_FORMAT,
    minWireFormat: MIN_WIRE_FORMAT,
    clusterWireFormat: clusterFormat(self, voters, (id) => links[id]?.format),
  };
}
