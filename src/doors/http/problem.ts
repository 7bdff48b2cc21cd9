// Any error → RFC 9457 problem details, through the one error table. Fastify's own errors
// (parsing, validation, limits) are translated to our codes so a client only ever sees those.
import { ERRORS, type ErrorCode, type FieldError, PorthouseError, errorTypeUri } from '../../core/errors.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  errors?: FieldError[];
}

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
  validation?: AjvError[];
  validationContext?: string;
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_CTP_INVALID_TYPE: 'bad_request',
};

export const problemType = errorTypeUri;

function fieldErrors(err: FastifyLikeError): FieldError[] {
  const part = err.validationContext ?? 'body';
  return (err.validation ?? []).map((v) => {
    let path = `/${part}${v.instancePath}`;
    let message = v.message ?? 'is invalid';
    if (v.keyword === 'additionalProperties') {
      path += `/${String(v.params['additionalProperty'])}`;
      message = 'is not a known field';
    } else if (v.keyword === 'required') {
      path += `/${String(v.params['missingProperty'])}`;
      message = 'is required';
    }
    return { path, message };
  });
}

export function problemOf(code: ErrorCode, detail?: string, fields?: readonly FieldError[]): Problem {
  const spec = ERRORS[code];
  const problem: Problem = {
    type: problemType(code),
    title: spec.title,
    status: spec.status,
    detail: detail || spec.title,
    code,
  };
  if (fields) problem.errors = [...fields];
  return problem;
}

/** The problem to answer with; `internal` is set when the error is a bug to log, not a client's fault. */
export function toProblem(err: unknown): { problem: Problem; retryAfter?: number; internal: boolean } {
  if (err instanceof PorthouseError) {
    const problem = problemOf(err.code, err.message, err.fields);
    return {
      problem,
      ...(err.retryAfter === undefined ? {} : { retryAfter: err.retryAfter }),
      internal: false,
    };
  }
  const e = (err ?? {}) as FastifyLikeError;
  let code: ErrorCode | undefined;
  let detail = e.message ?? '';
  let fields: FieldError[] | undefined;
  if (e.validation) {
    code = 'validation_failed';
    fields = fieldErrors(e);
    detail = fields.map((f) => `${f.path} ${f.message}`).join('; ');
  } else if (e.code && FASTIFY_CODES[e.code]) {
    code = FASTIFY_CODES[e.code];
  } else if (err instanceof SyntaxError || (e.statusCode === 400 && /JSON|prototype/i.test(detail))) {
    code = 'malformed_json';
  } else if (e.statusCode === 413) {
    code = 'body_too_large';
  } else if (e.statusCode === 415) {
    code = 'unsupported_media_type';
  } else if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    code = 'bad_request';
  }
  if (!code) return { problem: problemOf('internal'), internal: true };
  return { problem: problemOf(code, detail, fields), internal: false };
}
