// Every on-disk format version raftseq knows, in one place.
//
// Two independent numbers:
//  - RECORD_FORMAT frames each stored value (entry, hard state, snapshot,
//    meta): `[version u8][crc32 u32 BE over payload][payload]`. A reader
//    refuses versions above the one it was built with, instead of guessing.
//  - DIR_FORMAT is the layout of a data directory (key scheme, which records
//    exist). It is written once, when an empty directory is first opened, and
//    a directory with a newer number is refused before anything is read.
//
// History (append a line when bumping, and keep decoders for older versions):
//  RECORD_FORMAT 1: fields are length-prefixed and counted, so a later
//                   version can append fields that this one's decoder defaults.
//  DIR_FORMAT 1:    keys `v`, `h`, `s`, `l`+u64 BE index, `m:`+name.

export const RECORD_FORMAT = 1;
export const DIR_FORMAT = 1;
