import { useEffect, useRef } from "react";
import { savedSession } from "./api";

// The center's event stream (GET /api/events/stream, server-sent events):
// every event the user may see arrives as it happens. Views that show what
// events report (the inventory, the events list) reload when one arrives,
// instead of waiting for their next poll, which stays as the fallback.
// One stream per page, open while some view listens.
const listeners = new Set<() => void>();
let stream: EventSource | null = null;
let pending: ReturnType<typeof setTimeout> | null = null;

function open() {
  const session = savedSession();
  if (stream || !session) return;
  // Browsers cannot set headers on an EventSource: the session goes in the
  // query. Only what happens from now on.
  const query = `session=${encodeURIComponent(session.token)}&after=${encodeURIComponent(new Date().toISOString())}`;
  stream = new EventSource(`/api/events/stream?${query}`);
  stream.addEventListener("event", () => {
    // A burst of events (a VM powering on leaves several) reloads once.
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      listeners.forEach((f) => f());
    }, 200);
  });
}

function close() {
  stream?.close();
  stream = null;
}

/// Calls `f` soon after each new event (or burst of events).
export function useLiveEvents(f: () => void) {
  const latest = useRef(f);
  latest.current = f;
  useEffect(() => {
    const listener = () => latest.current();
    listeners.add(listener);
    open();
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) close();
    };
  }, []);
}
