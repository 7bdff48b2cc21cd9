// The shell: sign-in until there is a session, then the chat.
import { useEffect, useState } from 'preact/hooks';
import { Chat } from './chat.js';
import { SignIn } from './sign-in.js';
import { Session } from './session.js';
import { savedToken } from './storage.js';

export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  useEffect(() => {
    const token = savedToken();
    if (token === null) setSession(null);
    else Session.start(token).then(setSession, () => setSession(null));
  }, []);
  if (session === undefined) return <p class="loading">Loading…</p>;
  if (session === null) return <SignIn onSession={setSession} />;
  return (
    <Chat
      session={session}
      onSignOut={() => {
        session.signOut();
        setSession(null);
      }}
    />
  );
}
