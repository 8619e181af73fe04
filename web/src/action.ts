import { useState } from "react";
import { errorText } from "./api";

/// What a form or dialog runs, one at a time: whether it runs now, and why
/// the last one failed (the API's answer, in words). `run` resolves once it
/// is over, never with an error.
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function run(action: () => Promise<unknown>) {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, setError, run };
}
