/**
 * strace text → structured records. See reader.ts for the merging and attribution rules and
 * line.ts for the record shape; values.ts holds the argument value model, tables.ts the
 * name → number tables that make `-X raw` and named output agree.
 */
export {
  parseLine,
  parseTimestamp,
  recordArgs,
  StraceParseError,
  type LineContext,
  type PidSource,
  type RecordKind,
  type StraceRecord,
  type StraceRet,
  type StraceTime,
} from './line.js';
export {
  argToNumber,
  decodeCString,
  parseArgs,
  parseNumber,
  parseValue,
  splitAnnotation,
  type Arg,
  type ArrayArg,
  type FdArg,
  type FlagsArg,
  type NumArg,
  type RawArg,
  type StrArg,
  type StructArg,
} from './values.js';
export {
  ALL_CONSTANTS,
  CLOCK_IDS,
  CLONE_FLAGS,
  MISC_CONSTANTS,
  OPEN_FLAGS,
  SIGNALS,
  constantValue,
  flagNames,
  nameOf,
} from './tables.js';
export {
  emptyStats,
  ffPidOf,
  findFfFiles,
  parseStraceText,
  readStrace,
  readStraceFf,
  StraceAssembler,
  StraceReader,
  type FfFile,
  type StraceReadOptions,
  type StraceStats,
} from './reader.js';
