import { useEffect, useState } from "react";
import { privileges } from "./api";

// Calls `load` now and every `ms` until the component goes or `key`
// changes; the latest answer, or the error of the latest try.
export function usePoll<T>(load: () => Promise<T>, ms: number, key: unknown) {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  // A new key (another object, another filter): what was shown is not its
  // answer.
  useEffect(() => {
    setValue(null);
    setError(null);
  }, [key]);
  useEffect(() => {
    let live = true;
    const run = () =>
      load().then(
        (v) => live && (setValue(v), setError(null)),
        (e) => live && setError(e instanceof Error ? e.message : String(e)),
      );
    run();
    const t = setInterval(run, ms);
    return () => {
      live = false;
      clearInterval(t);
    };
    // `load` is a new closure at every render: `key` says when it changed.
  }, [key, ms, tick]);
  return { value, error, refresh: () => setTick((t) => t + 1) };
}

/// The caller's privileges on an object, once known.
export function usePrivileges(object: string): Set<string> | null {
  const [allowed, setAllowed] = useState<Set<string> | null>(null);
  useEffect(() => {
    setAllowed(null);
    privileges(object).then(setAllowed, () => setAllowed(new Set()));
  }, [object]);
  return allowed;
}
