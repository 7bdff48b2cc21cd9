// Register or sign in. The token lives in sessionStorage: this tab only, gone on sign-out.
import { useState } from 'preact/hooks';
import { describeError } from './errors.js';
import { type Session, signIn } from './session.js';

export function SignIn({ onSession }: { onSession: (s: Session) => void }) {
  const [mode, setMode] = useState<'login' | 'register'>('login');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (ev: Event) => {
    ev.preventDefault();
    const form = new FormData(ev.currentTarget as HTMLFormElement);
    setBusy(true);
    setError('');
    try {
      onSession(await signIn(String(form.get('name')), String(form.get('password')), mode === 'register'));
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };

  return (
    <main class="sign-in">
      <h1>porthouse</h1>
      <p class="tagline">One chat, a door for every layer of the network stack.</p>
      <form onSubmit={submit} aria-labelledby="sign-in-title">
        <h2 id="sign-in-title">{mode === 'login' ? 'Sign in' : 'Create an account'}</h2>
        <label for="name">Name</label>
        <input
          id="name"
          name="name"
          autocomplete="username"
          required
          pattern="[a-z0-9][a-z0-9_\-]{0,31}"
          title="Lower-case letters, digits, - and _; up to 32"
        />
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete={mode === 'login' ? 'current-password' : 'new-password'}
          required
          minLength={mode === 'register' ? 8 : undefined}
        />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {mode === 'login' ? 'Sign in' : 'Register'}
        </button>
        <button type="button" class="link" onClick={() => setMode(mode === 'login' ? 'register' : 'login')}>
          {mode === 'login' ? 'New here? Create an account' : 'Have an account? Sign in'}
        </button>
      </form>
    </main>
  );
}
