// Original file: proto/raftseq/v1/sequencer.proto


export interface NextRequest {
  'sequence'?: (string);
  'count'?: (number);
}

export interface NextRequest__Output {
  'sequence': (string);
  'count': (number);
}
