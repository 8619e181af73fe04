import { useEffect, useState } from "react";
import { InventoryObject, call, privileges } from "./api";

// One object's summary page: what it is and its state, its facts, the
// objects related to it, and (for a VM) the actions the user may take.
export function Summary(props: {
  object: InventoryObject;
  objects: InventoryObject[];
  onChanged: () => void;
}) {
  const { object: o, objects } = props;
  const name = (id: unknown) => objects.find((x) => x.id === id)?.name ?? String(id ?? "");
  const related = objects.filter(
    (x) => x.parent === o.id || (o.kind === "host" && x.kind === "vm" && x.data.host === o.id),
  );
  return (
    <section className="summary" aria-label={`Summary of ${o.name}`}>
      <h2>
        {o.name} <small>{o.kind}</small>
      </h2>
      {o.kind === "vm" && <VmActions vm={o} onChanged={props.onChanged} />}
      <dl>{facts(o, name).map(([k, v]) => [<dt key={`${k}t`}>{k}</dt>, <dd key={`${k}d`} data-fact={k}>{v}</dd>])}</dl>
      {related.length > 0 && (
        <>
          <h3>Related objects</h3>
          <ul className="related">
            {related.map((r) => (
              <li key={r.id}>
                {r.kind} {r.name}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

/// The facts worth showing, by kind, in words.
function facts(o: InventoryObject, name: (id: unknown) => string): [string, string][] {
  const d = o.data as Record<string, any>;
  switch (o.kind) {
    case "vm":
      return [
        ["Power state", String(d.power_state ?? "unknown")],
        ["Host", name(d.host)],
        ["CPUs", String(d.cpus ?? "")],
        ["Memory", d.memory_mib ? `${d.memory_mib} MiB` : ""],
        ["Datastore", String(d.datastore ?? "")],
      ];
    case "host":
      return [
        ["State", String(d.state ?? "unknown")],
        ["Address", String(d.address ?? "")],
        ["Memory", d.memory_mib ? `${d.memory_mib} MiB` : ""],
        ["Maintenance mode", d.maintenance ? "yes" : "no"],
        ["Lockdown mode", d.lockdown ? "yes" : "no"],
      ];
    default:
      return Object.entries(d)
        .filter(([, v]) => typeof v !== "object")
        .map(([k, v]) => [k, String(v)]);
  }
}

const ACTIONS: { op: string; label: string; privilege: string; when: string }[] = [
  { op: "on", label: "Power on", privilege: "VirtualMachine.Interact.PowerOn", when: "poweredOff" },
  { op: "off", label: "Power off", privilege: "VirtualMachine.Interact.PowerOff", when: "poweredOn" },
  { op: "shutdown", label: "Shut down guest", privilege: "VirtualMachine.Interact.PowerOff", when: "poweredOn" },
  { op: "reset", label: "Reset", privilege: "VirtualMachine.Interact.Reset", when: "poweredOn" },
];

// The power actions the user holds the privilege for; each starts a task
// (the tasks pane follows it).
function VmActions(props: { vm: InventoryObject; onChanged: () => void }) {
  const [allowed, setAllowed] = useState<Set<string> | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setAllowed(null);
    privileges(props.vm.id).then(setAllowed, () => setAllowed(new Set()));
  }, [props.vm.id]);
  const state = String(props.vm.data.power_state ?? "");
  const shown = ACTIONS.filter((a) => allowed?.has(a.privilege));
  if (!allowed) return null;
  return (
    <div className="actions" role="toolbar" aria-label="Actions">
      {shown.length === 0 && <span className="empty">You may not change this VM.</span>}
      {shown.map((a) => (
        <button key={a.op} disabled={state !== a.when}
          onClick={() => {
            setError(null);
            call("POST", `/api/vms/${props.vm.id}/power/${a.op}`).then(props.onChanged, (e) =>
              setError(e.message),
            );
          }}>
          {a.label}
        </button>
      ))}
      {error && <p className="error" role="alert">{error}</p>}
    </div>
  );
}
