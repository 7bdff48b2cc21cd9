// `porthouse trace ROOM SEQ`: a message's journey on the node that serves --server, as a
// timeline: where it came in and its bytes on the wire, each stage's time, its fan-out by door.
import { RestClient } from '../client/rest.js';
import type { JourneyView } from '../core/journey.js';
import { UsageError, clientContext } from './args.js';

const ms = (n: number | null) => (n === null ? '-' : `${n.toFixed(3)} ms`);

export async function trace(room: string, seqText: string, values: Record<string, unknown>): Promise<void> {
  const seq = Number(seqText);
  if (!Number.isSafeInteger(seq) || seq < 1) throw new UsageError('SEQ must be a whole number ≥ 1');
  const ctx = clientContext(values, process.env);
  if (!ctx.token) throw new UsageError('a token is needed: --token T or PORTHOUSE_TOKEN');
  const client = new RestClient({ server: ctx.server, token: ctx.token });
  const j = await client.request<JourneyView>(
    'GET',
    `/v1/rooms/${encodeURIComponent(room)}/messages/${seq}/trace`,
  );
  if (values['json']) {
    process.stdout.write(`${JSON.stringify(j)}\n`);
    return;
  }
  const out: string[] = [];
  out.push(`#${room} seq ${j.seq}, from ${j.startedAt}`);
  out.push(
    j.door === null
      ? 'came over the bus from another node'
      : `received by the ${j.door} door: ${j.wireBytes} bytes on the wire (${j.framing})`,
  );
  for (const s of j.stages) out.push(`  ${ms(s.ms).padStart(12)}  ${s.stage}`);
  for (const f of j.fanout)
    out.push(
      `  ${ms(f.queuedMs).padStart(12)}  fan-out ${f.door}: ${f.recipients} recipient${f.recipients === 1 ? '' : 's'}, ${f.bytesPerRecipient} bytes each, written ${ms(f.firstWriteMs)} … ${ms(f.lastWriteMs)}`,
    );
  process.stdout.write(`${out.join('\n')}\n`);
}
