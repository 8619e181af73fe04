import { Suspense, lazy, useState } from "react";
import { ActionRequest, ObjectActions } from "./Actions";
import { InventoryObject, PerfSeries, Schemas, Sent, call, newest } from "./api";
import { DatastoreFiles } from "./DatastoreFiles";
import { Events } from "./Events";
import { Networking } from "./Networking";
import { Permissions } from "./Permissions";
import { usePoll, usePrivileges } from "./poll";
import { Snapshots } from "./Snapshots";
import { isTemplate } from "./Tree";

// The charting library loads when first used.
const Performance = lazy(() => import("./Perf").then((m) => ({ default: m.Performance })));

// One object's page: what it is, the actions the user may take on it, and
// tabs: its summary (state, facts, related objects, permissions) and, by
// kind, a host's or VM's performance charts, a VM's snapshots or a host's
// networking.
export function Summary(props: {
  object: InventoryObject;
  objects: InventoryObject[];
  /// An action chosen in the tree's menu, for the toolbar to run.
  request: ActionRequest | null;
  onRequestHandled: () => void;
  onChanged: () => void;
}) {
  const { object: o, objects } = props;
  const allowed = usePrivileges(o.id);
  const name = (id: unknown) => objects.find((x) => x.id === id)?.name ?? String(id ?? "");
  const related = objects.filter(
    (x) => x.parent === o.id || (o.kind === "host" && x.kind === "vm" && x.data.host === o.id),
  );
  const tabs = ["Summary", ...(TABS[isTemplate(o) ? "template" : o.kind] ?? [])];
  // The tab stays when another object of the same kind is selected.
  const [chosen, setTab] = useState("Summary");
  const tab = tabs.includes(chosen) ? chosen : "Summary";
  return (
    <section className="summary" aria-label={`Summary of ${o.name}`}>
      <h2>
        {o.name} <small>{isTemplate(o) ? "template" : o.kind}</small>
      </h2>
      {allowed && (
        <ObjectActions object={o} allowed={allowed} objects={objects} request={props.request}
          onRequestHandled={props.onRequestHandled} onChanged={props.onChanged} />
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
      {tab === "Files" && allowed && (
        <DatastoreFiles datastore={o} manage={allowed.has("Datastore.FileManagement")} />
      )}
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

/// The tabs besides the summary, by kind (a template never runs and takes
/// no snapshots).
const TABS: Record<string, string[]> = {
  vm: ["Performance", "Snapshots", "Events"],
  template: ["Events"],
  host: ["Performance", "Networking", "Events"],
  cluster: ["Performance", "Events"],
  datacenter: ["Events"],
  folder: ["Events"],
  datastore: ["Files", "Events"],
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
    () => call<Sent<Schemas["VmInfo"]>>(
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
