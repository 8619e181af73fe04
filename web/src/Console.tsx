import { useEffect, useRef, useState } from "react";
import { Terminal } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";
import { savedSession } from "./api";
import { GraphicalConsole } from "./GraphicalConsole";

// A VM's consoles: its display (noVNC) and its serial console, as tabs.
export function Console(props: { vm: string; onClose: () => void }) {
  const [view, setView] = useState<"graphical" | "serial">("graphical");
  return (
    <section className="console" aria-label="Console">
      <div className="console-bar">
        <div role="tablist" aria-label="Consoles">
          <button role="tab" aria-selected={view === "graphical"} onClick={() => setView("graphical")}>
            Graphical
          </button>
          <button role="tab" aria-selected={view === "serial"} onClick={() => setView("serial")}>
            Serial
          </button>
        </div>
        <button onClick={props.onClose}>Close console</button>
      </div>
      {view === "graphical" ? <GraphicalConsole vm={props.vm} /> : <SerialConsole vm={props.vm} />}
    </section>
  );
}

// The serial console in a terminal emulator, over the center's console
// WebSocket (the session goes in the query: browsers cannot set headers
// on a WebSocket).
function SerialConsole(props: { vm: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [state, setState] = useState("connecting");
  useEffect(() => {
    const term = new Terminal({ convertEol: true, fontSize: 13, rows: 24, cols: 100 });
    term.open(box.current!);
    const token = encodeURIComponent(savedSession()?.token ?? "");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/api/vms/${props.vm}/console?session=${token}`);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      setState("connected");
      term.focus();
    };
    ws.onmessage = (m) =>
      term.write(typeof m.data === "string" ? m.data : new Uint8Array(m.data as ArrayBuffer));
    ws.onclose = () => setState("closed");
    const typed = term.onData((d) => ws.readyState === WebSocket.OPEN && ws.send(d));
    return () => {
      typed.dispose();
      ws.close();
      term.dispose();
    };
  }, [props.vm]);
  return (
    <div>
      <p className="console-state">Console ({state})</p>
      <div ref={box} className="terminal" data-testid="terminal" />
    </div>
  );
}
