// A one-shot signal: a promise and the function that resolves it, so a test waits on a state
// reached elsewhere (a request held, a sync begun) instead of sleeping.
export interface Signal {
  readonly fire: () => void;
  readonly fired: Promise<void>;
}

export function signal(): Signal {
  let fire!: () => void;
  const fired = new Promise<void>((resolve) => {
    fire = resolve;
  });
  return { fire, fired };
}
