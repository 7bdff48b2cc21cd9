// docs/frames.md, generated from the frame schemas so the reference cannot drift from what the
// doors accept and send. `npm run docs:frames` writes it; a test fails when it is stale.
import type { TSchema } from '@sinclair/typebox';
import { CLIENT_FRAMES, SERVER_FRAMES } from './frames.js';

interface JsonSchema {
  type?: string;
  const?: unknown;
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  pattern?: string;
  minimum?: number;
  minLength?: number;
  maxLength?: number;
  format?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
}

function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.anyOf) return s.anyOf.map(typeOf).join(' or ');
  if (s.type === 'array') return `array of ${typeOf(s.items ?? {})}`;
  const limits: string[] = [];
  if (s.pattern) limits.push(`\`${s.pattern}\``);
  if (s.format) limits.push(s.format);
  if (s.minimum !== undefined) limits.push(`≥ ${s.minimum}`);
  if (s.minLength !== undefined && s.maxLength !== undefined)
    limits.push(`${s.minLength}–${s.maxLength} chars`);
  else if (s.maxLength !== undefined) limits.push(`≤ ${s.maxLength} chars`);
  else if (s.minLength) limits.push(`≥ ${s.minLength} char`);
  return `${s.type ?? 'any'}${limits.length > 0 ? ` (${limits.join(', ')})` : ''}`;
}

function section(title: string, frames: Record<string, TSchema>): string[] {
  const lines = [`## ${title}`, ''];
  for (const [type, schema] of Object.entries(frames)) {
    const s = schema as JsonSchema;
    lines.push(
      `### \`${type}\``,
      '',
      s.description ?? '',
      '',
      '| field | type | required |',
      '| --- | --- | --- |',
    );
    for (const [field, prop] of Object.entries(s.properties ?? {})) {
      if (field === 'type') continue;
      const note = prop.description ? ` — ${prop.description}` : '';
      lines.push(
        `| \`${field}\` | ${typeOf(prop).replace(/\|/g, '\\|')}${note.replace(/\|/g, '\\|')} | ${s.required?.includes(field) ? 'yes' : 'no'} |`,
      );
    }
    lines.push('');
  }
  return lines;
}

export function renderFramesDoc(): string {
  return [
    '# Frames',
    '',
    'Generated from `src/protocol/frames.ts` by `npm run docs:frames`; a test fails when this file is stale.',
    'Every frame is one JSON object with a `type`: a WebSocket text message, a TCP line, a UDP',
    'datagram, or the `data:` of an SSE event (whose `event:` is the type). Client frames are',
    'validated strictly: unknown fields, wrong types and bad names are refused with an `error` frame',
    '(codes in [protocol.md](protocol.md#error-codes)). How the frames fit together is in',
    '[protocol.md](protocol.md#real-time-frames). Over UDP every client frame also carries',
    '`token` (a bearer token), and a `sub` repeats the `cookie` of its `challenge`; there is no',
    '`auth` frame there.',
    '',
    ...section('Client → server', CLIENT_FRAMES),
    ...section('Server → client', SERVER_FRAMES),
  ].join('\n');
}
