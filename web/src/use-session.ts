// Re-render a component whenever the session changes (it batches its changes per task).
import { useEffect, useState } from 'preact/hooks';
import type { Session } from './session.js';

export function useSession(session: Session): void {
  const [, setTick] = useState(0);
  useEffect(() => {
    const off = session.subscribe(() => setTick((n) => n + 1));
    // Effects run after the first paint: whatever changed before we listened must show too.
    setTick((n) => n + 1);
    return off;
  }, [session]);
}
