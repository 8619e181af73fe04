import { useEffect, useRef, useState } from "react";
import { ActionRequest } from "./Actions";
import { InventoryObject, Session, call, logout } from "./api";
import { ContextMenu } from "./ContextMenu";
import { useLiveEvents } from "./live";
import { usePoll } from "./poll";
import { Events } from "./Events";
import { Roles } from "./Roles";
import { Summary } from "./Summary";
import { Tasks } from "./Tasks";
import { Tree, VIEWS, View } from "./Tree";

// The client's frame, as the vSphere Client's: the inventory tree on the
// left, the selected object's summary in the middle (or the events, or the
// roles), recent tasks below.
export function Shell(props: { session: Session; onLogout: () => void }) {
  const [selected, setSelected] = useState<string | null>(null);
  const [view, setView] = useState<"inventory" | "events" | "roles">("inventory");
  const [tree, setTree] = useState<View>("hosts");
  // The tree's right-click menu, and the action chosen in it, which the
  // object's page runs.
  const [menu, setMenu] = useState<{ id: string; x: number; y: number } | null>(null);
  const [request, setRequest] = useState<ActionRequest | null>(null);
  // Reloaded at each event; the poll catches what the stream missed.
  const inventory = usePoll(() => call<InventoryObject[]>("GET", "/api/inventory"), 15000, null);
  useLiveEvents(inventory.refresh);
  const objects = inventory.value ?? [];
  const object = objects.find((o) => o.id === selected) ?? null;
  // The selected object as last seen: when it goes (deleted here or
  // elsewhere), its parent is shown instead, as in the vSphere Client.
  const last = useRef<InventoryObject | null>(null);
  if (object) last.current = object;
  useEffect(() => {
    const gone = last.current;
    if (inventory.value && !object && gone?.id === selected && gone.parent) setSelected(gone.parent);
  }, [inventory.value, object, selected]);
  // Choosing an object shows it, whichever view was up.
  const select = (id: string) => {
    setSelected(id);
    setView("inventory");
  };
  return (
    <div className="shell">
      <header>
        <span className="brand">Hierro</span>
        <nav className="views" aria-label="Views">
          <button aria-pressed={view === "inventory"} onClick={() => setView("inventory")}>Inventory</button>
          <button aria-pressed={view === "events"} onClick={() => setView("events")}>Events</button>
          <button aria-pressed={view === "roles"} onClick={() => setView("roles")}>Roles</button>
        </nav>
        <span className="user">{props.session.username}</span>
        <button onClick={() => logout().finally(props.onLogout)}>Log out</button>
      </header>
      <nav aria-label="Inventory">
        {inventory.error && <p className="error" role="alert">{inventory.error}</p>}
        {inventory.value && objects.length === 0 && <p className="empty">Nothing you may see yet.</p>}
        <div className="inventory-views" role="tablist" aria-label="Inventory views">
          {(Object.keys(VIEWS) as View[]).map((v) => (
            <button key={v} role="tab" aria-selected={tree === v} onClick={() => setTree(v)}>{VIEWS[v].label}</button>
          ))}
        </div>
        <Tree objects={objects} view={tree} selected={selected} onSelect={select}
          onMenu={(id, x, y) => {
            select(id);
            setMenu({ id, x, y });
          }} />
      </nav>
      <main>
        {view === "events" ? (
          <Events />
        ) : view === "roles" ? (
          <Roles objects={objects} />
        ) : object ? (
          <Summary object={object} objects={objects} request={request}
            onRequestHandled={() => setRequest(null)} onChanged={inventory.refresh} />
        ) : (
          <p className="empty">Select an object in the inventory.</p>
        )}
      </main>
      <Tasks />
      {menu && object?.id === menu.id && (
        <ContextMenu object={object} x={menu.x} y={menu.y} onClose={() => setMenu(null)}
          onChoose={(key) => {
            setMenu(null);
            setRequest({ object: menu.id, key });
          }} />
      )}
    </div>
  );
}
