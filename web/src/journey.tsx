// A message's journey on the node that served it (GET …/messages/{seq}/trace), opened from its
// door badge: its bytes on the wire with that door's framing, each stage on a small timeline,
// and its fan-out per door.
import { useEffect, useState } from 'preact/hooks';
import type { JourneyView } from '../../src/core/journey.js';
import { describeError } from './errors.js';
import type { Session } from './session.js';

const STAGE_LABEL: Record<string, string> = {
  received: 'received',
  decoded: 'decoded and checked',
  stored: 'stored (commit)',
  durable: 'durable (sync)',
  acked: 'acknowledged',
  published: 'published to the bus',
};

const ms = (n: number | null) => (n === null ? '–' : `${n.toFixed(2)} ms`);

export function Journey({ session, room, seq }: { session: Session; room: string; seq: number }) {
  const [journey, setJourney] = useState<JourneyView | undefined>(undefined);
  const [error, setError] = useState('');
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Opened the moment its sender was answered, a journey may still be fanning out: asked again
    // a few times until every door's last write is in.
    const load = (tries: number) =>
      session.rest
        .request<JourneyView>('GET', `/v1/rooms/${encodeURIComponent(room)}/messages/${seq}/trace`)
        .then(
          (j) => {
            if (!live) return;
            setJourney(j);
            if (tries > 0 && j.fanout.some((f) => f.lastWriteMs === null))
              timer = setTimeout(() => void load(tries - 1), 200);
          },
          (err: unknown) => live && setError(describeError(err)),
        );
    void load(5);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [session, room, seq]);
  if (error)
    return (
      <section class="journey" aria-label={`Journey of message ${seq}`}>
        <p class="error">{error}</p>
      </section>
    );
  if (!journey) return <div class="journey">Loading its journey…</div>;
  const end = Math.max(
    0.01,
    ...journey.stages.map((s) => s.ms),
    ...journey.fanout.map((f) => f.lastWriteMs ?? f.queuedMs),
  );
  const at = (n: number) => `${Math.min(100, (n / end) * 100).toFixed(1)}%`;
  return (
    <section class="journey" aria-label={`Journey of message ${seq}`}>
      <p>
        {journey.door === null
          ? 'It came over the bus from another node.'
          : `Received by the ${journey.door} door: ${journey.wireBytes} bytes on the wire (${journey.framing}).`}
      </p>
      <ol class="stages">
        {journey.stages.map((s) => (
          <li key={s.stage} data-stage={s.stage}>
            <span class="bar" style={{ marginLeft: at(s.ms) }} aria-hidden="true" />
            <span class="when">{ms(s.ms)}</span> {STAGE_LABEL[s.stage] ?? s.stage}
          </li>
        ))}
        {journey.fanout.map((f) => (
          <li key={`f${f.door}`} data-fanout={f.door}>
            <span
              class="bar fan"
              style={{
                marginLeft: at(f.queuedMs),
                width: `calc(${at((f.lastWriteMs ?? f.queuedMs) - f.queuedMs)} + 2px)`,
              }}
              aria-hidden="true"
            />
            <span class="when">{ms(f.firstWriteMs)}</span> fanned out on {f.door}: {f.recipients}{' '}
            {f.recipients === 1 ? 'recipient' : 'recipients'}, {f.bytesPerRecipient} bytes each, last write{' '}
            {ms(f.lastWriteMs)}
          </li>
        ))}
      </ol>
    </section>
  );
}
