import { FormEvent, useEffect, useState } from "react";
import { useAction } from "./action";
import { InventoryObject, call, privileges } from "./api";
import { Dialog } from "./Dialog";

/// What moving a VM needs, as the center asks: vMotion for a running VM,
/// cold migration for a powered-off one.
export function movePrivilege(running: boolean): string {
  return running ? "Resource.HotMigrate" : "Resource.ColdMigrate";
}

// Migrate (vMotion): the VM to another host of its datacenter. The center
// checks the rest (datastore, port groups, memory, CPU) and answers with a
// task the tasks pane follows, so the dialog closes once it has started.
export function Migrate(props: {
  vm: InventoryObject;
  objects: InventoryObject[];
  onClose: () => void;
  onStarted: () => void;
}) {
  const { vm, objects } = props;
  const live = vm.data.power_state === "poweredOn";
  const datacenter = datacenterOf(vm, objects);
  const hosts = objects.filter(
    (o) => o.kind === "host" && o.id !== vm.data.host && datacenterOf(o, objects) === datacenter,
  );
  const assignable = useAssignable(hosts.map((h) => h.id));
  const [host, setHost] = useState("");
  const [downtime, setDowntime] = useState(500);
  const [autoConverge, setAutoConverge] = useState(true);
  const [bandwidth, setBandwidth] = useState("");
  const { busy, error, run } = useAction();

  const refused = (h: InventoryObject) => whyNotHost(h, assignable);

  function submit(e: FormEvent) {
    e.preventDefault();
    const body = live
      ? { host, downtime_ms: downtime, auto_converge: autoConverge, max_bandwidth_mib: bandwidth ? Number(bandwidth) : null }
      : { host };
    run(async () => {
      await call("POST", `/api/vms/${vm.id}/migrate`, body);
      props.onStarted();
      props.onClose();
    });
  }

  return (
    <Dialog title={`Migrate ${vm.name}`} onClose={props.onClose}>
      <form className="dialog-form" onSubmit={submit} aria-label="Migrate">
        <p className="notice">
          {live ? "The VM runs: it moves live (vMotion), without stopping." : "The VM is powered off: it is moved cold."}
        </p>
        {hosts.length === 0 ? (
          <p className="empty">There is no other host in this datacenter to move it to.</p>
        ) : (
          <fieldset>
            <legend>Destination host</legend>
            {hosts.map((h) => (
              <label key={h.id} className="choice">
                <input type="radio" name="host" value={h.id} checked={host === h.id} required
                  disabled={refused(h) !== null} onChange={() => setHost(h.id)} />
                {h.name} {refused(h) && <span className="notice">({refused(h)})</span>}
              </label>
            ))}
          </fieldset>
        )}
        {live && hosts.length > 0 && (
          <>
            <label>Switchover goal (ms)
              <input name="downtime" type="number" min={1} max={60000} value={downtime}
                onChange={(e) => setDowntime(Number(e.target.value))} />
            </label>
            <label className="choice">
              <input name="autoConverge" type="checkbox" checked={autoConverge}
                onChange={(e) => setAutoConverge(e.target.checked)} /> Auto-converge (slow the guest's vCPUs if its memory changes faster than it is sent)
            </label>
            <label>Bandwidth cap (MiB/s, empty: none)
              <input name="bandwidth" type="number" min={1} value={bandwidth} onChange={(e) => setBandwidth(e.target.value)} />
            </label>
          </>
        )}
        {error && <p className="error" role="alert">{error}</p>}
        <div className="dialog-buttons">
          <button type="button" onClick={props.onClose}>Cancel</button>
          <button type="submit" disabled={busy || !host}>Migrate</button>
        </div>
      </form>
    </Dialog>
  );
}

/// Why a host cannot take a VM, as far as the client can tell (null: it
/// can); `assignable` are the hosts the caller may place VMs on.
export function whyNotHost(h: InventoryObject, assignable: Set<string> | null): string | null {
  return h.data.state !== "connected" ? String(h.data.state ?? "not connected")
    : h.data.maintenance ? "in maintenance mode"
    : assignable && !assignable.has(h.id) ? "you may not place VMs there"
    : null;
}

/// The datacenter an object is in (its nearest datacenter ancestor).
export function datacenterOf(o: InventoryObject, objects: InventoryObject[]): string | null {
  let at: InventoryObject | undefined = o;
  while (at && at.kind !== "datacenter") {
    const parent: string | null = at.parent ?? null;
    at = objects.find((x) => x.id === parent);
  }
  return at?.id ?? null;
}

/// Of these hosts, those the caller may place VMs on (the destination
/// needs Resource.AssignVMToPool), once known.
export function useAssignable(hosts: string[]): Set<string> | null {
  const [allowed, setAllowed] = useState<Set<string> | null>(null);
  const key = hosts.join(",");
  useEffect(() => {
    let live = true;
    Promise.all(hosts.map((h) => privileges(h).then((p) => (p.has("Resource.AssignVMToPool") ? [h] : []), () => [])))
      .then((found) => live && setAllowed(new Set(found.flat())));
    return () => {
      live = false;
    };
    // `hosts` is a new array at every render: `key` says when it changed.
  }, [key]);
  return allowed;
}
