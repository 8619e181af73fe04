import { useEffect, useState } from "react";
import { InventoryObject, call, privileges } from "./api";
import { Console } from "./Console";
import { CreateVm } from "./CreateVm";
import { Permissions } from "./Permissions";
import { usePoll } from "./poll";

// One object's summary page: what it is and its state, its facts, the
// objects related to it, and (for a VM) the actions the user may take.
export function Summary(props: {
  object: InventoryObject;
  objects: InventoryObject[];
  onChanged: () => void;
}) {
  const { object: o, objects } = props;
  const allowed = usePrivileges(o.id);
  const name = (id: unknown) => objects.find((x) => x.id === id)?.name ?? String(id ?? "");
  const related = objects.filter(
    (x) => x.parent === o.id || (o.kind === "host" && x.kind === "vm" && x.data.host === o.id),
  );
  return (
    <section className="summary" aria-label={`Summary of ${o.name}`}>
      <h2>
        {o.name} <small>{o.kind}</small>
      </h2>
      {allowed && o.kind === "vm" && <VmActions vm={o} allowed={allowed} onChanged={props.onChanged} />}
      {allowed && (o.kind === "host" || o.kind === "cluster") && (
        <PlacementActions placement={o} allowed={allowed} objects={objects} onChanged={props.onChanged} />
      )}
      <dl>{facts(o, name).map(([k, v]) => [<dt key={`${k}t`}>{k}</dt>, <dd key={`${k}d`} data-fact={k}>{v}</dd>])}</dl>
      {o.kind === "vm" && o.data.power_state === "poweredOn" && <Guest vm={o.id} />}
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
      <Permissions object={o.id} canModify={allowed?.has("Authorization.ModifyPermissions") ?? false} />
    </section>
  );
}

// What the guest agent says: the guest's host name and addresses.
function Guest(props: { vm: string }) {
  const info = usePoll(
    () => call<{ guest?: { agent_running: boolean; host_name?: string; ip_addresses: string[] } }>(
      "GET",
      `/api/vms/${props.vm}`,
    ),
    5000,
    props.vm,
  );
  const g = info.value?.guest;
  return (
    <>
      <h3>Guest</h3>
      {!g?.agent_running ? (
        <p className="empty">The guest agent does not answer (yet).</p>
      ) : (
        <dl>
          <dt>Host name</dt><dd data-fact="Guest host name">{g.host_name ?? ""}</dd>
          <dt>IP addresses</dt><dd data-fact="Guest IP addresses">{g.ip_addresses.join(", ")}</dd>
        </dl>
      )}
    </>
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
    case "dvswitch":
      return [
        ["MTU", String(d.spec?.mtu ?? "")],
        ["Uplink ports", (d.spec?.uplinks ?? []).join(", ")],
        ["Port groups", (d.spec?.portgroups ?? []).map((g: any) => `${g.name} (VLAN ${g.vlan ?? 0})`).join(", ")],
        ["Member hosts", Object.keys(d.members ?? {}).map(name).join(", ")],
        ["Ports in use", String(Object.keys(d.ports ?? {}).length)],
        ["Teaming", String(d.spec?.teaming?.load_balancing ?? "originating_port")],
      ];
    case "network":
      return Object.entries(d.hosts ?? {}).map(([h, f]: [string, any]) => [
        `On ${name(h)}`,
        `${f.distributed ? "distributed" : "standard"} switch ${f.vswitch}, VLAN ${f.vlan}`,
      ]);
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

/// The caller's privileges on an object, once known.
function usePrivileges(object: string): Set<string> | null {
  const [allowed, setAllowed] = useState<Set<string> | null>(null);
  useEffect(() => {
    setAllowed(null);
    privileges(object).then(setAllowed, () => setAllowed(new Set()));
  }, [object]);
  return allowed;
}

// The power actions the user holds the privilege for (each starts a task
// the tasks pane follows), and the console.
function VmActions(props: { vm: InventoryObject; allowed: Set<string>; onChanged: () => void }) {
  const { allowed } = props;
  const [error, setError] = useState<string | null>(null);
  const [showConsole, setShowConsole] = useState(false);
  const state = String(props.vm.data.power_state ?? "");
  const shown = ACTIONS.filter((a) => allowed.has(a.privilege));
  const canConsole = allowed.has("VirtualMachine.Interact.ConsoleInteract");
  return (
    <>
    <div className="actions" role="toolbar" aria-label="Actions">
      {shown.length === 0 && !canConsole && <span className="empty">You may not change this VM.</span>}
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
      {canConsole && (
        <button disabled={state !== "poweredOn"} onClick={() => setShowConsole(true)}>
          Open console
        </button>
      )}
      {error && <p className="error" role="alert">{error}</p>}
    </div>
    {showConsole && <Console vm={props.vm.id} onClose={() => setShowConsole(false)} />}
    </>
  );
}

// On a host or cluster: a new VM placed there, by the wizard.
function PlacementActions(props: {
  placement: InventoryObject;
  allowed: Set<string>;
  objects: InventoryObject[];
  onChanged: () => void;
}) {
  const [wizard, setWizard] = useState(false);
  if (!props.allowed.has("VirtualMachine.Inventory.Create")) return null;
  return wizard ? (
    <CreateVm placement={props.placement} objects={props.objects}
      onDone={() => {
        setWizard(false);
        props.onChanged();
      }} />
  ) : (
    <div className="actions" role="toolbar" aria-label="Actions">
      <button onClick={() => setWizard(true)}>New virtual machine</button>
    </div>
  );
}
