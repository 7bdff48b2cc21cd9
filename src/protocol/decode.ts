// Turns one frame's text (a WebSocket message, a TCP line, a UDP datagram) into a typed client
// frame or a stable error. Pure: no socket, no state, so it can be fuzzed by the thousand.
import { Ajv, type ValidateFunction } from 'ajv';
import type { ErrorCode } from '../core/errors.js';
import {
  CLIENT_FRAMES,
  type ClientFrame,
  type ClientFrameType,
  type FrameRef,
  MAX_REF_LENGTH,
} from './frames.js';

export interface FrameError {
  readonly code: ErrorCode;
  readonly message: string;
  /** The frame's ref when it could be read, so the client can match the error to its request. */
  readonly ref?: FrameRef;
}

export type Decoded =
  | { readonly ok: true; readonly frame: ClientFrame }
  | ({ readonly ok: false } & FrameError);

const ajv = new Ajv({ allErrors: false, strict: false, coerceTypes: false, removeAdditional: false });
const validators = new Map<string, ValidateFunction>(
  Object.entries(CLIENT_FRAMES).map(([type, schema]) => [type, ajv.compile(schema)]),
);
const TYPES = Object.keys(CLIENT_FRAMES).join(', ');

/** A frame's ref when it is a valid one, read before (or without) validating the rest. */
export const refOf = (value: Record<string, unknown>): FrameRef | undefined => {
  const ref = value['ref'];
  if (typeof ref === 'string' && ref.length > 0 && ref.length <= MAX_REF_LENGTH) return ref;
  if (typeof ref === 'number' && Number.isSafeInteger(ref)) return ref;
  return undefined;
};

const failure = (code: ErrorCode, message: string, ref?: FrameRef): Decoded =>
  ref === undefined ? { ok: false, code, message } : { ok: false, code, message, ref };

/** Decode one frame's text. */
export function decodeFrame(text: string): Decoded {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return failure('malformed_json', 'The frame is not valid JSON.');
  }
  return validateFrame(value);
}

/** The same checks on a frame already parsed (UDP parses first, to take its token off). */
export function validateFrame(value: unknown): Decoded {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return failure('validation_failed', 'A frame is a JSON object with a "type".');
  const record = value as Record<string, unknown>;
  const ref = refOf(record);
  const type = record['type'];
  const validate = typeof type === 'string' ? validators.get(type) : undefined;
  if (!validate)
    return failure(
      'unknown_frame',
      `Unknown frame type ${JSON.stringify(type) ?? 'undefined'}; one of ${TYPES}.`,
      ref,
    );
  if (!validate(value)) {
    const e = validate.errors?.[0];
    const where = e
      ? `${e.instancePath}${e.params && 'additionalProperty' in e.params ? `/${String(e.params['additionalProperty'])}` : ''}` ||
        '/'
      : '/';
    return failure('validation_failed', `${type} frame: ${where} ${e?.message ?? 'is invalid'}.`, ref);
  }
  return { ok: true, frame: value as ClientFrame };
}

export const isClientFrameType = (t: string): t is ClientFrameType => validators.has(t);
