import { ReactNode } from "react";
import { InventoryObject, Schemas, Sent, call } from "./api";
import { usePoll, usePrivileges } from "./poll";
import { AddPortGroup, PortGroupActions } from "./PortGroupEditor";

// What the center answers for a host's networking (GET
// /api/hosts/{id}/network): the host's configuration and its ports'
// counters, the serde JSON of hierro-api's HostNetwork and PortList.

type SecurityPolicy = Sent<Schemas["SecurityPolicy"]>;
type VSwitch = Sent<Schemas["VSwitch"]>;
export type PortGroup = Sent<Schemas["PortGroup"]>;
type VmkNic = Sent<Schemas["VmkNic"]>;
type MirrorDestination = Sent<Schemas["MirrorDestination"]>;
type LoadBalancing = Schemas["LoadBalancing"];
type FailureDetection = Schemas["FailureDetection"];
type FailoverOrder = Sent<Schemas["FailoverOrder"]>;
/// A port group's overrides: an absent field inherits the switch's.
type Overrides = Sent<Pick<Schemas["PortGroup"], "security" | "teaming">>;
/// A policy or its overrides: a field absent (or null) is not set here.
type Said<T> = { [K in keyof T]?: T[K] | null };

// A host's networking, as vSphere's Configure > Networking: its standard
// and distributed switches with their teaming and security, port groups,
// VMkernel ports, mirror sessions, and the live counters of every port.
export function Networking(props: { host: InventoryObject; objects: InventoryObject[] }) {
  const path = `/api/hosts/${props.host.id}/network`;
  const answer = usePoll(() => call<Sent<Schemas["HostNetworkView"]>>("GET", path), 3000, path);
  const net = answer.value?.network;
  const ports = answer.value?.ports.ports ?? [];
  const link = (nic: string) => ports.find((p) => p.port === `uplink:${nic}`)?.link_up ?? undefined;
  const vms = new Map(props.objects.filter((o) => o.kind === "vm").map((o) => [String(o.data.vm_id), o.name]));
  const dvs = net?.distributed ?? [];
  // Port groups of both kinds: a VM's port names its group, not its kind.
  const groups: PortGroup[] = [
    ...(net?.portgroup ?? []),
    ...dvs.flatMap((d) => d.switch.portgroups.map((g) => ({ ...g, vswitch: d.switch.name }))),
  ];
  const mirrors = [...(net?.mirror ?? []), ...dvs.flatMap((d) => d.switch.mirrors)];
  const standard = new Set((net?.portgroup ?? []).map((g) => g.name));
  const canEdit = usePrivileges(props.host.id)?.has("Host.Config.Network") ?? false;
  return (
    <section className="networking" aria-label="Networking">
      {answer.error && <p className="error" role="alert">{answer.error}</p>}
      {!answer.value && !answer.error && <p className="empty">Asking the host…</p>}
      {net && (
        <>
          <h3>Standard switches</h3>
          <SwitchTable
            label="Standard switches"
            empty="This host has no standard switch."
            rows={(net.vswitch ?? []).map((s) => ({
              ...s,
              uplinks: s.uplinks.map((nic) => <Uplink key={nic} name={nic} nic={nic} up={link(nic)} />),
            }))}
          />
          <h3>Distributed switches</h3>
          <SwitchTable
            label="Distributed switches"
            empty="This host is a member of no distributed switch."
            rows={dvs.map(({ switch: s, nics }) => ({
              ...s,
              uplinks: s.uplinks.map((u) => <Uplink key={u} name={u} nic={nics[u]} up={nics[u] ? link(nics[u]) : undefined} />),
            }))}
          />
          <h3>Port groups</h3>
          {canEdit && (
            <AddPortGroup host={props.host.id} switches={(net.vswitch ?? []).map((s) => s.name)} onChanged={answer.refresh} />
          )}
          <Table label="Port groups" empty="No port groups."
            head={["Name", "Switch", "VLAN", "Overrides of the switch's policies", ...(canEdit ? [""] : [])]}
            rows={groups.map((g) => [
              g.name, g.vswitch, vlan(g.vlan), overrides(g),
              // Distributed port groups change on their switch, for every host.
              ...(canEdit ? [standard.has(g.name) ? <PortGroupActions host={props.host.id} group={g} onChanged={answer.refresh} /> : "on the distributed switch"] : []),
            ])} />
          <h3>VMkernel ports</h3>
          <Table label="VMkernel ports" empty="No VMkernel ports." head={["Name", "Port group", "IP address", "MAC", "Services"]}
            rows={(net.vmknic ?? []).map((k) => [k.name, k.portgroup, k.ip ?? "none", k.mac ?? "", k.services.map((s) => SERVICES[s]).join(", ") || "none"])} />
          <h3>Port mirroring</h3>
          <Table label="Port mirroring" empty="No mirror sessions." head={["Session", "Switch", "Enabled", "Sources", "Destination", "Copies", "Copied (frames, bytes)", "Not sent"]}
            rows={mirrors.map((m) => {
              const stats = answer.value?.ports.mirrors.find((s) => s.name === m.name);
              return [
                m.name,
                m.vswitch,
                m.enabled ? "yes" : "no",
                [...m.sources.map((s) => `${s.port} (${s.direction})`), ...(m.source_vlan !== undefined ? [`VLAN ${m.source_vlan} from uplinks`] : [])].join(", "),
                destination(m.destination) + (m.allow_normal_io ? ", normal I/O allowed" : ""),
                `${m.snap_length ? `first ${m.snap_length} bytes` : "whole frames"}, 1 in ${m.sampling_rate}`,
                stats ? `${stats.frames}, ${bytes(stats.bytes)}` : "",
                stats ? String(stats.dropped) : "",
              ];
            })} />
        </>
      )}
      {answer.value && (
        <>
          <h3>Ports</h3>
          <p className="notice">Live counters. Tx: what the port sent into the switch; Rx: what the switch delivered to it.</p>
          <Table label="Ports" empty="No ports." head={["Port", "Connected", "Port group", "VLAN", "Switch", "Tx packets", "Tx bytes", "Rx packets", "Rx bytes", "Dropped", "Uplink"]}
            rows={ports.map((p) => {
              const group = groups.find((g) => g.name === p.portgroup && g.vswitch === p.vswitch);
              return [
                p.port,
                connected(p.port, vms),
                p.portgroup ?? "",
                group ? vlan(group.vlan) : "",
                p.vswitch,
                String(p.counters.in_packets),
                bytes(p.counters.in_bytes),
                String(p.counters.out_packets),
                bytes(p.counters.out_bytes),
                drops(p.counters),
                p.link_up !== undefined ? (p.link_up ? "link up" : "link down") : (p.uplink ?? "none up"),
              ];
            })} />
        </>
      )}
    </section>
  );
}

/// An uplink: its name, the host's NIC behind it (a distributed switch's
/// uplink port may have none here) and the NIC's link state.
function Uplink(props: { name: string; nic?: string; up?: boolean }) {
  const state = !props.nic ? "no NIC here" : props.up === undefined ? "state unknown" : props.up ? "up" : "down";
  return (
    <span className={`uplink ${props.up === false || !props.nic ? "down" : ""}`}>
      {props.name}
      {props.nic && props.nic !== props.name && ` → ${props.nic}`} ({state})
    </span>
  );
}

function SwitchTable(props: {
  label: string;
  empty: string;
  rows: (Omit<VSwitch, "uplinks"> & { uplinks: ReactNode[] })[];
}) {
  return (
    <Table label={props.label} empty={props.empty}
      head={["Name", "MTU", "Uplinks", "Load balancing", "Failover order", "Failure detection", "Notify switches", "Failback", "Security"]}
      rows={props.rows.map((s) => [
        s.name,
        String(s.mtu),
        <span className="uplinks">{s.uplinks}</span>,
        LOAD_BALANCING[s.teaming.load_balancing],
        s.teaming.failover_order ? order(s.teaming.failover_order) : "all uplinks active, in order",
        FAILURE_DETECTION[s.teaming.failure_detection],
        yesNo(s.teaming.notify_switches),
        yesNo(s.teaming.failback),
        security(s.security),
      ])} />
  );
}

// A plain table with a heading row, or the empty state.
function Table(props: { label: string; empty: string; head: string[]; rows: ReactNode[][] }) {
  if (props.rows.length === 0) return <p className="empty">{props.empty}</p>;
  return (
    <div className="table-scroll">
      <table aria-label={props.label}>
        <thead><tr>{props.head.map((h) => <th key={h}>{h}</th>)}</tr></thead>
        <tbody>
          {props.rows.map((r, i) => (
            <tr key={i}>{r.map((c, j) => <td key={j}>{c}</td>)}</tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const LOAD_BALANCING: Record<LoadBalancing, string> = {
  originating_port: "Route based on originating virtual port",
  source_mac: "Route based on source MAC hash",
  ip_hash: "Route based on IP hash",
  failover_order: "Use explicit failover order",
};

const FAILURE_DETECTION: Record<FailureDetection, string> = {
  link_status: "Link status only",
  beacon_probing: "Beacon probing",
};

const SERVICES: Record<VmkNic["services"][number], string> = {
  management: "Management",
  vmotion: "vMotion",
  ft_logging: "Fault Tolerance logging",
  ip_storage: "IP storage",
  vsan: "vSAN",
};

const yesNo = (b: boolean) => (b ? "yes" : "no");
const accept = (b: boolean) => (b ? "accept" : "reject");

function vlan(id: number): string {
  return id === 0 ? "none" : id === 4095 ? "all (4095, trunk)" : String(id);
}

function order(o: FailoverOrder): string {
  return `active ${o.active.join(", ") || "none"}; standby ${o.standby.join(", ") || "none"}`;
}

function security(s: Said<SecurityPolicy>): string {
  return [
    s.allow_promiscuous != null && `promiscuous mode ${accept(s.allow_promiscuous)}`,
    s.allow_mac_changes != null && `MAC address changes ${accept(s.allow_mac_changes)}`,
    s.allow_forged_transmits != null && `forged transmits ${accept(s.allow_forged_transmits)}`,
  ].filter(Boolean).join(", ");
}

/// What a port group sets itself; the rest it takes from its switch.
function overrides(g: Overrides): string {
  const t = g.teaming;
  const said = [
    security(g.security),
    t.load_balancing && LOAD_BALANCING[t.load_balancing],
    t.failover_order && order(t.failover_order),
    t.failure_detection && FAILURE_DETECTION[t.failure_detection],
    t.notify_switches != null && `notify switches ${yesNo(t.notify_switches)}`,
    t.failback != null && `failback ${yesNo(t.failback)}`,
  ].filter(Boolean);
  return said.join("; ") || "none (inherits)";
}

function destination(d: MirrorDestination): string {
  switch (d.type) {
    case "ports":
      return `ports ${d.ports.join(", ")}`;
    case "rspan":
      return `VLAN ${d.vlan} on ${d.uplinks.join(", ")} (RSPAN)`;
    case "erspan":
      return `${d.address} from ${d.vmknic} (ERSPAN ${d.version === "type3" ? "type III" : "type II"}, session ${d.session_id})`;
  }
}

/// What is at the other end of a port, by its key.
function connected(port: string, vms: Map<string, string>): string {
  const vm = /^vm:([^:]+):(\d+)$/.exec(port);
  if (vm) return `${vms.get(vm[1]) ?? `VM ${vm[1]}`}, network adapter ${Number(vm[2]) + 1}`;
  if (port.startsWith("uplink:")) return `physical NIC ${port.slice("uplink:".length)}`;
  return `VMkernel ${port}`;
}

/// The frames a port lost, in all and by reason.
function drops(c: Sent<Schemas["PortCounters"]>): string {
  const reasons: [string, number][] = [
    ["VLAN", c.drop_vlan],
    ["forged", c.drop_forged],
    ["MAC change", c.drop_mac_change],
    ["promiscuous", c.drop_promiscuous],
    ["no uplink", c.drop_no_uplink],
    ["malformed", c.drop_malformed],
    ["oversize", c.drop_oversize],
    ["mirror destination", c.drop_mirror_destination],
  ];
  const some = reasons.filter(([, n]) => n > 0);
  const total = some.reduce((a, [, n]) => a + n, 0);
  return total === 0 ? "0" : `${total} (${some.map(([r, n]) => `${r} ${n}`).join(", ")})`;
}

function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  for (; n >= 1024 && i < units.length - 1; i++) n /= 1024;
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}
