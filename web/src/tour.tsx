// The guided tour for a first-time user: one message through REST, one over the WebSocket, then
// one each from the command line over TCP and UDP, each shown with its journey open, and what
// each step shows of the stack. Offered once per browser, reopened from the header; a region,
// not a modal, so the chat stays usable while it is open, and Escape closes it.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { DoorInfo } from '../../src/core/types.js';
import { describeError } from './errors.js';
import { Journey } from './journey.js';
import type { Session } from './session.js';
import { savedToken } from './storage.js';

type Step = 'intro' | 'rest' | 'ws' | 'tcp' | 'udp' | 'done';
const STEPS: Step[] = ['intro', 'rest', 'ws', 'tcp', 'udp', 'done'];

const TITLE: Record<Step, string> = {
  intro: 'A tour of the doors',
  rest: '1 · REST: a request and its response',
  ws: '2 · WebSocket: one connection, both directions',
  tcp: '3 · Raw TCP: one JSON line',
  udp: '4 · UDP: one datagram',
  done: 'That was every layer',
};

/** The room the tour writes in: the one open, or a private room of the user's own. */
export const tourRoomFor = (user: string) => `tour-${user}`;

export function Tour({ session, onClose }: { session: Session; onClose: () => void }) {
  const [step, setStep] = useState<Step>('intro');
  const [seqs, setSeqs] = useState<Partial<Record<Step, number>>>({});
  /** For the CLI steps: the newest seq when the step began; a message past it from that door is the one. */
  const [since, setSince] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [doors, setDoors] = useState<DoorInfo[]>([]);
  const heading = useRef<HTMLHeadingElement>(null);
  const room = session.current;

  useEffect(() => {
    session.rest.request<{ doors: DoorInfo[] }>('GET', '/v1/doors').then(
      (d) => setDoors(d.doors),
      () => setDoors([]),
    );
  }, [session]);

  // A new step is announced by moving focus to its heading (not on the first render: the tour
  // opens beside the chat without taking the keyboard from it).
  const moved = useRef(false);
  useEffect(() => {
    if (moved.current) heading.current?.focus();
    moved.current = true;
  }, [step]);

  // The CLI steps wait for the message to arrive over the WebSocket like any other.
  const waitingFor = step === 'tcp' || step === 'udp' ? step : undefined;
  useEffect(() => {
    if (!waitingFor || room === undefined || seqs[waitingFor] !== undefined) return;
    const arrived = session
      .timeline(room)
      .messages()
      .find((m) => m.via === waitingFor && m.seq > since);
    if (arrived) setSeqs((s) => ({ ...s, [waitingFor]: arrived.seq }));
  });

  const go = (next: Step) => {
    setError('');
    if (next === 'tcp' || next === 'udp')
      setSince(room === undefined ? 0 : (session.timeline(room).newest ?? 0));
    setStep(next);
  };
  const nextStep = STEPS[STEPS.indexOf(step) + 1];

  const start = async () => {
    setBusy(true);
    try {
      if (session.current === undefined) {
        const name = tourRoomFor(session.me.name);
        try {
          await session.rest.createRoom({ name, title: 'Guided tour', private: true });
        } catch (err) {
          if ((err as { code?: string }).code !== 'room_exists') throw err;
        }
        await session.refreshRooms();
        await session.open(name);
      }
      go('rest');
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  const viaRest = async () => {
    if (room === undefined) return;
    setBusy(true);
    try {
      const m = await session.rest.post(room, 'Hello through REST: one HTTP POST', crypto.randomUUID());
      setSeqs((s) => ({ ...s, rest: m.seq }));
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  const viaWs = async () => {
    setBusy(true);
    const seq = await session.send('Hello over the WebSocket: one frame');
    setBusy(false);
    if (seq === undefined) setError('The WebSocket send failed: see the message in the room.');
    else setSeqs((s) => ({ ...s, ws: seq }));
  };

  const command = (via: 'tcp' | 'udp', withToken: boolean) => {
    const port = doors.find((d) => d.door === via)?.port ?? 7070;
    const token = withToken ? (savedToken() ?? '') : '$(npx porthouse token <you>)';
    return `PORTHOUSE_SERVER=${location.origin} PORTHOUSE_TOKEN=${token} npx porthouse send ${room ?? '<room>'} "Hello over ${via.toUpperCase()}" --via ${via} --${via} ${location.hostname}:${port}`;
  };

  const journeyOf = (s: Step) =>
    room !== undefined && seqs[s] !== undefined ? (
      <Journey session={session} room={room} seq={seqs[s]!} />
    ) : null;

  return (
    <section
      class="tour"
      aria-labelledby="tour-title"
      onKeyDown={(e) => {
        if (e.key === 'Escape') onClose();
      }}
    >
      <header>
        <h2 id="tour-title" tabIndex={-1} ref={heading}>
          {TITLE[step]}
        </h2>
        <button type="button" class="tour-close" aria-label="Close the tour" onClick={onClose}>
          ×
        </button>
      </header>
      {step === 'intro' && (
        <>
          <p>
            porthouse has a door for every layer of the network stack, all onto the same rooms and the same
            ordered messages. This tour sends a message through four of them and opens each one's journey: the
            bytes it took on the wire, when it was stored and made durable, and how it was fanned out.
          </p>
          <p>
            {room === undefined
              ? `It writes in a private room of your own, ${tourRoomFor(session.me.name)}.`
              : `It writes in the room you have open, ${room}.`}
          </p>
          <button type="button" disabled={busy} onClick={() => void start()}>
            Start the tour
          </button>
        </>
      )}
      {step === 'rest' && (
        <>
          <p>
            REST is HTTP, layer 7, over a TCP connection: the browser sends a request (a request line,
            headers, a JSON body) and waits for its response. The server answers 201 only once the message is
            durable; then it pushes the message to every subscriber, this page included.
          </p>
          {seqs.rest === undefined && (
            <button type="button" disabled={busy} onClick={() => void viaRest()}>
              Send through REST
            </button>
          )}
          {journeyOf('rest')}
        </>
      )}
      {step === 'ws' && (
        <>
          <p>
            The WebSocket began as one HTTP request (an Upgrade) and stayed open: a persistent TCP connection
            where either side may speak first. The message goes up as one small frame, the acknowledgement
            comes back on the same connection, and the server pushes others' messages the moment they exist —
            no polling.
          </p>
          {seqs.ws === undefined && (
            <button type="button" disabled={busy} onClick={() => void viaWs()}>
              Send over the WebSocket
            </button>
          )}
          {journeyOf('ws')}
        </>
      )}
      {(step === 'tcp' || step === 'udp') && (
        <>
          {step === 'tcp' ? (
            <p>
              Under HTTP is a plain TCP socket, named by its five-tuple (TCP, local address, local port,
              remote address, remote port). The TCP door speaks one JSON frame per line on it, nothing more:
              ordered and reliable because TCP is.
            </p>
          ) : (
            <p>
              UDP has no connection: each datagram stands alone and may be lost or reordered. The UDP door
              shares the TCP door's port number, yet (UDP, {doors.find((d) => d.door === 'udp')?.port ?? 7070}
              ) is another socket. Each post is acknowledged; a client retries with the same ref, and a lost
              message shows as a missing seq it fills over REST.
            </p>
          )}
          <p>Run this in a terminal in the porthouse clone (with your token, or one from porthouse token):</p>
          <pre class="command">
            <code>{command(step, false)}</code>
          </pre>
          <button
            type="button"
            onClick={() =>
              void navigator.clipboard.writeText(command(step, true)).then(
                () => session.notify('Copied, with your token: treat it like a password.'),
                () => setError('The browser would not let the page copy.'),
              )
            }
          >
            Copy with my token
          </button>
          {seqs[step] === undefined ? (
            <p class="waiting" aria-live="polite">
              Waiting for a message over {step.toUpperCase()}…
            </p>
          ) : (
            journeyOf(step)
          )}
        </>
      )}
      {step === 'done' && (
        <p>
          Every message in the room carries its door's badge: click one to open its journey again. Admins see
          every live socket, with the kernel's RTT, congestion window and queues, in the Network panel;
          docs/layers.md explains each layer with measured figures.
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {step !== 'intro' && (
        <nav class="tour-steps" aria-label="Tour steps">
          {nextStep ? (
            <button type="button" onClick={() => go(nextStep)}>
              {seqs[step] === undefined && step !== 'done' ? 'Skip this step' : 'Next'}
            </button>
          ) : (
            <button type="button" onClick={onClose}>
              Finish
            </button>
          )}
        </nav>
      )}
    </section>
  );
}
