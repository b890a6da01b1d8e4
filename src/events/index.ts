/** The event vocabulary: types, validation of untrusted records, canonical encoding, versions and upcasters. */
export {
  SCHEMA_VERSION,
  PID_MAX_LIMIT,
  ERRNOS,
  ALL_CALLS,
  MARKER_CALLS,
  RecordSchema,
  ReplayRecordSchema,
  EventOpSchema,
  OpSchema,
  OutcomeSchema,
  MarkerOpSchema,
  isMarker,
  type EventRecord,
  type ReplayRecord,
  type EventInput,
  type EventOp,
  type MarkerOp,
  type MarkerCall,
} from './schema.js';
export { canonicalJson, recordHash, sealEncoding, sha256Hex, ZERO_HASH } from './canonical.js';
export { decodeRecord, parseRecordLine, sealRecord, validateRecord, validateOp, validateOutcome, type DecodeOptions } from './record.js';
export { compileTapeCodec, type TapeBatch, type TapeCodec, type TapeDecoder, type TapeEncoder } from './tape.js';
export { upcast, UPCASTERS, versionOf, type Upcaster } from './upcast.js';
export { RecordError, CanonicalError, EventInputError, type RecordFault, type LineContext } from './errors.js';
export { compile, formatPath, toJsonSchema, type Issue, type Check, type Infer, type JsonSchema } from './dsl.js';
export { buildJsonSchema, schemaFileText, exampleFiles, SCHEMA_ID } from './json-schema.js';
export { EXAMPLES } from './examples.js';
