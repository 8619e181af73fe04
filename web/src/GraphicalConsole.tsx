import { useEffect, useRef, useState } from "react";
import RFB from "@novnc/novnc";
import { call, errorText } from "./api";
import type { components } from "./api-types";

type ConsoleTicket = components["schemas"]["ConsoleTicket"];

// X keysyms of what "Send text" types that are not Latin-1 characters.
const XK_RETURN = 0xff0d;
const XK_SHIFT_L = 0xffe1;
// Characters typed with Shift on a US keyboard (the guest's layout).
const SHIFTED = /[A-Z~!@#$%^&*()_+{}|:"<>?]/;

// The VM's display in noVNC, over the center's VNC WebSocket, opened with
// a one-time ticket (a browser's WebSocket cannot carry the session).
export function GraphicalConsole(props: { vm: string }) {
  const screen = useRef<HTMLDivElement>(null);
  const rfb = useRef<RFB | null>(null);
  const [state, setState] = useState("connecting");
  const [error, setError] = useState<string | null>(null);
  const [scale, setScale] = useState(true);
  const [text, setText] = useState("");
  useEffect(() => {
    let closed = false;
    call<ConsoleTicket>("POST", `/api/vms/${props.vm}/console/ticket`)
      .then((ticket) => {
        if (closed) return;
        const scheme = location.protocol === "https:" ? "wss" : "ws";
        const r = new RFB(screen.current!, `${scheme}://${location.host}${ticket.path}`, {
          wsProtocols: ["binary"],
        });
        r.scaleViewport = true;
        r.focusOnClick = true;
        r.addEventListener("connect", () => setState("connected"));
        r.addEventListener("disconnect", () => setState("closed"));
        rfb.current = r;
      })
      .catch((e) => {
        setState("closed");
        setError(errorText(e));
      });
    return () => {
      closed = true;
      rfb.current?.disconnect();
      rfb.current = null;
    };
  }, [props.vm]);
  useEffect(() => {
    if (rfb.current) rfb.current.scaleViewport = scale;
  }, [scale]);
  const sendText = () => {
    const r = rfb.current;
    if (!r) return;
    for (const ch of text) {
      const shifted = SHIFTED.test(ch);
      if (shifted) r.sendKey(XK_SHIFT_L, "ShiftLeft", true);
      r.sendKey(ch === "\n" ? XK_RETURN : ch.codePointAt(0)!, null);
      if (shifted) r.sendKey(XK_SHIFT_L, "ShiftLeft", false);
    }
    r.sendKey(XK_RETURN, "Enter");
    setText("");
    r.focus();
  };
  return (
    <div className="graphical-console">
      <div className="console-tools">
        <span>Graphical console ({state})</span>
        <button disabled={state !== "connected"} onClick={() => rfb.current?.sendCtrlAltDel()}>
          Send Ctrl-Alt-Del
        </button>
        <label>
          <input type="checkbox" checked={scale} onChange={(e) => setScale(e.target.checked)} /> Scale to fit
        </label>
        <button disabled={state !== "connected"} onClick={() => screen.current?.requestFullscreen()}>
          Full screen
        </button>
        <input aria-label="Text to send" value={text} placeholder="Text to type, then Enter"
          onChange={(e) => setText(e.target.value)} onKeyDown={(e) => e.key === "Enter" && sendText()} />
        <button disabled={state !== "connected" || text === ""} onClick={sendText}>Send text</button>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      <div ref={screen} className="vnc-screen" data-testid="vnc-screen" />
    </div>
  );
}
