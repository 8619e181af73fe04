import { Suspense, lazy, useState } from "react";
import { InventoryObject, PerfSeries, Task, call, finished, newest } from "./api";
import { CreateVm } from "./CreateVm";
import { Confirm } from "./Dialog";
import { EditSettings } from "./EditSettings";
import { Events } from "./Events";
import { Migrate, movePrivilege } from "./Migrate";
import { Networking } from "./Networking";
import { Permissions } from "./Permissions";
import { usePoll, usePrivileges } from "./poll";
import { Snapshots } from "./Snapshots";

// The terminal emulator and the charting library load when first used.
const Console = lazy(() => import("./Console").then((m) => ({ default: m.Console })));
const Performance = lazy(() => import("./Perf").then((m) => ({ default: m.Performance })));

// One object's page: what it is, the actions the user may take on it, and
// tabs: its summary (state, facts, related objects, permissions) and, by
// kind, a host's or VM's performance charts, a VM's snapshots or a host's
// networking.
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
  const tabs = ["Summary", ...(TABS[o.kind] ?? [])];
  // The tab stays when another object of the same kind is selected.
  const [chosen, setTab] = useState("Summary");
  const tab = tabs.includes(chosen) ? chosen : "Summary";
  return (
    <section className="summary" aria-label={`Summary of ${o.name}`}>
      <h2>
        {o.name} <small>{o.kind}</small>
      </h2>
      {allowed && o.kind === "vm" && (
        <VmActions vm={o} allowed={allowed} objects={objects} onChanged={props.onChanged} />
      )}
      {allowed && (o.kind === "host" || o.kind === "cluster") && (
        <PlacementActions placement={o} allowed={allowed} objects={objects} onChanged={props.onChanged} />
      )}
      {tabs.length > 1 && (
        <div className="tabs" role="tablist" aria-label="Views of the object">
          {tabs.map((t) => (
            <button key={t} role="tab" aria-selected={t === tab} onClick={() => setTab(t)}>{t}</button>
          ))}
        </div>
      )}
      {tab === "Snapshots" && allowed && <Snapshots vm={o} allowed={allowed} onChanged={props.onChanged} />}
      {tab === "Networking" && <Networking host={o} objects={objects} />}
      {tab === "Events" && <Events object={o} />}
      {tab === "Performance" && (
        <Suspense fallback={<p className="notice">Loading the charts…</p>}>
          <Performance object={o.id} />
        </Suspense>
      )}
      {tab === "Summary" && (
        <>
          <dl>{facts(o, name).map(([k, v]) => [<dt key={`${k}t`}>{k}</dt>, <dd key={`${k}d`} data-fact={k}>{v}</dd>])}</dl>
          {(o.kind === "host" || (o.kind === "vm" && o.data.power_state === "poweredOn")) && <Usage object={o.id} />}
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
        </>
      )}
    </section>
  );
}

/// The tabs besides the summary, by kind.
const TABS: Record<string, string[]> = {
  vm: ["Performance", "Snapshots", "Events"],
  host: ["Performance", "Networking", "Events"],
  cluster: ["Performance", "Events"],
  datacenter: ["Events"],
  folder: ["Events"],
  datastore: ["Events"],
  network: ["Events"],
  dvswitch: ["Events"],
};

// The newest CPU and memory figures, as the vSphere Client's summary shows
// them; the Performance tab has the history.
function Usage(props: { object: string }) {
  const series = usePoll(() => call<PerfSeries>("GET", `/api/perf/${props.object}`), 20000, props.object);
  const v = (counter: string) => newest(series.value?.values[counter]);
  const cpu = v("cpu.usage");
  const mem = v("mem.consumed");
  const memPct = v("mem.usage");
  if (!series.value) return null;
  return (
    <>
      <h3>Usage</h3>
      {cpu === null && mem === null ? (
        <p className="empty">No samples yet: hosts take one every 20 seconds (by default).</p>
      ) : (
        <dl>
          <dt>CPU</dt><dd data-fact="CPU usage">{cpu === null ? "–" : `${cpu.toFixed(1)} %`}</dd>
          <dt>Memory</dt>
          <dd data-fact="Memory consumed">
            {mem === null ? "–" : `${(mem / 2 ** 20).toFixed(0)} MiB`}{memPct === null ? "" : ` (${memPct.toFixed(0)} %)`}
          </dd>
        </dl>
      )}
    </>
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

const gib = (bytes: unknown) => `${(Number(bytes ?? 0) / 2 ** 30).toFixed(1)} GiB`;

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
    case "datastore":
      // Each host reports the datastore as it sees it.
      return Object.entries(d.hosts ?? {}).map(([h, f]: [string, any]) => [
        `On ${name(h)}`,
        f.accessible === false
          ? `not accessible (${f.path})`
          : `${gib(f.free_bytes)} free of ${gib(f.capacity_bytes)} (${f.path})`,
      ]);
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

// The power actions the user holds the privilege for (each starts a task
// the tasks pane follows), the console, migration and deletion.
function VmActions(props: {
  vm: InventoryObject;
  allowed: Set<string>;
  objects: InventoryObject[];
  onChanged: () => void;
}) {
  const { allowed, vm } = props;
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<"console" | "edit" | "migrate" | "delete" | null>(null);
  const state = String(vm.data.power_state ?? "");
  const shown = ACTIONS.filter((a) => allowed.has(a.privilege));
  const canConsole = allowed.has("VirtualMachine.Interact.ConsoleInteract");
  const canMigrate = allowed.has(movePrivilege(state === "poweredOn"));
  const canDelete = allowed.has("VirtualMachine.Inventory.Delete");
  const canEdit = ["CPUCount", "Memory", "EditDevice"].some((p) => allowed.has(`VirtualMachine.Config.${p}`));
  // Deleting is a task: the dialog shows its error, if any; once the VM
  // leaves the inventory the shell shows its parent.
  async function remove() {
    await finished(await call<Task>("DELETE", `/api/vms/${vm.id}`));
    props.onChanged();
  }
  return (
    <>
    <div className="actions" role="toolbar" aria-label="Actions">
      {shown.length === 0 && !canConsole && !canMigrate && !canDelete && !canEdit && (
        <span className="empty">You may not change this VM.</span>
      )}
      {shown.map((a) => (
        <button key={a.op} disabled={state !== a.when}
          onClick={() => {
            setError(null);
            call("POST", `/api/vms/${vm.id}/power/${a.op}`).then(props.onChanged, (e) =>
              setError(e.message),
            );
          }}>
          {a.label}
        </button>
      ))}
      {canConsole && (
        <button disabled={state !== "poweredOn"} onClick={() => setOpen("console")}>
          Open console
        </button>
      )}
      {canEdit && <button onClick={() => setOpen("edit")}>Edit settings</button>}
      {canMigrate && <button onClick={() => setOpen("migrate")}>Migrate</button>}
      {/* Not disabled when it runs: the host's refusal says what to do. */}
      {canDelete && <button className="danger" onClick={() => setOpen("delete")}>Delete VM</button>}
      {error && <p className="error" role="alert">{error}</p>}
    </div>
    {open === "console" && (
      <Suspense fallback={<p className="notice">Loading the console…</p>}>
        <Console vm={vm.id} onClose={() => setOpen(null)} />
      </Suspense>
    )}
    {open === "edit" && (
      <EditSettings vm={vm} objects={props.objects} allowed={allowed} onClose={() => setOpen(null)} onChanged={props.onChanged} />
    )}
    {open === "migrate" && (
      <Migrate vm={vm} objects={props.objects} onClose={() => setOpen(null)} onStarted={props.onChanged} />
    )}
    {open === "delete" && (
      <Confirm title="Delete virtual machine" action="Delete" onConfirm={remove} onClose={() => setOpen(null)}>
        <p>Delete {vm.name} and its files from datastore {String(vm.data.datastore ?? "")}? This cannot be undone.</p>
      </Confirm>
    )}
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
