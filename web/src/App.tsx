import { useEffect, useState } from "react";
import { Session, savedSession, whenExpired } from "./api";
import { Login } from "./Login";
import { Shell } from "./Shell";

// Logged in or not; an expired session brings back the login page.
export function App() {
  const [session, setSession] = useState<Session | null>(savedSession());
  const [expired, setExpired] = useState(false);
  useEffect(() => {
    whenExpired(() => {
      setSession(null);
      setExpired(true);
    });
  }, []);
  if (!session) {
    return (
      <Login
        notice={expired ? "Your session ended. Log in again." : undefined}
        onLogin={(s) => {
          setExpired(false);
          setSession(s);
        }}
      />
    );
  }
  return <Shell session={session} onLogout={() => setSession(null)} />;
}
