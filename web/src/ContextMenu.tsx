import { KeyboardEvent, useEffect, useRef } from "react";
import { actionsFor } from "./Actions";
import { InventoryObject } from "./api";
import { usePrivileges } from "./poll";

// The tree's right-click menu: the object's actions, as its page's toolbar
// offers them. It closes on Escape, on a click elsewhere, or when the page
// scrolls; arrow keys move between its items.
export function ContextMenu(props: {
  object: InventoryObject;
  x: number;
  y: number;
  onChoose: (key: string) => void;
  onClose: () => void;
}) {
  const { object: o } = props;
  const allowed = usePrivileges(o.id);
  const box = useRef<HTMLUListElement>(null);
  useEffect(() => {
    const outside = (e: MouseEvent) => {
      if (!box.current?.contains(e.target as Node)) props.onClose();
    };
    const close = () => props.onClose();
    document.addEventListener("mousedown", outside);
    window.addEventListener("scroll", close, true);
    window.addEventListener("resize", close);
    return () => {
      document.removeEventListener("mousedown", outside);
      window.removeEventListener("scroll", close, true);
      window.removeEventListener("resize", close);
    };
  }, []);
  const actions = allowed ? actionsFor(o, allowed) : null;
  // Once the items are known, the first usable one has the focus (or the
  // menu itself, so that Escape still closes it).
  useEffect(() => {
    (box.current?.querySelector<HTMLButtonElement>("button:not(:disabled)") ?? box.current)?.focus();
  }, [actions?.length]);
  function keys(e: KeyboardEvent) {
    const items = [...(box.current?.querySelectorAll<HTMLButtonElement>("button:not(:disabled)") ?? [])];
    const at = items.indexOf(document.activeElement as HTMLButtonElement);
    if (e.key === "Escape") props.onClose();
    else if (e.key === "ArrowDown") items[(at + 1) % items.length]?.focus();
    else if (e.key === "ArrowUp") items[(at - 1 + items.length) % items.length]?.focus();
    else return;
    e.preventDefault();
  }
  // Kept inside the window, whatever was clicked near its edge.
  const left = Math.min(props.x, window.innerWidth - 230);
  const top = Math.min(props.y, window.innerHeight - 40 - 30 * (actions?.length ?? 1));
  return (
    <ul ref={box} className="context-menu" role="menu" tabIndex={-1} aria-label={`Actions on ${o.name}`}
      style={{ left: Math.max(0, left), top: Math.max(0, top) }} onKeyDown={keys}>
      <li role="presentation" className="menu-title">{o.name}</li>
      {actions === null ? (
        <li role="presentation" className="notice">Loading…</li>
      ) : actions.length === 0 ? (
        <li role="presentation" className="empty">No actions you may take here.</li>
      ) : (
        actions.map((a) => (
          <li key={a.key} role="none">
            <button role="menuitem" className={a.danger ? "danger" : undefined} disabled={!a.enabled}
              onClick={() => props.onChoose(a.key)}>
              {a.label}
            </button>
          </li>
        ))
      )}
    </ul>
  );
}
