import { FormEvent, useState } from "react";
import { call } from "./api";
import { useAction } from "./action";
import { Confirm, Dialog } from "./Dialog";
import type { PortGroup } from "./Networking";

// A host's standard port groups changed through the center (`/api/hosts/
// {id}/network/portgroups`, Host.Config.Network): each change is a task,
// and the host's refusal (a VLAN out of range, a group in use) is shown.

const path = (host: string, name?: string) =>
  `/api/hosts/${host}/network/portgroups${name === undefined ? "" : `/${encodeURIComponent(name)}`}`;

/// A new port group: its name, switch and VLAN.
export function AddPortGroup(props: { host: string; switches: string[]; onChanged: () => void }) {
  const [name, setName] = useState("");
  const [vswitch, setVswitch] = useState(props.switches[0] ?? "");
  const [vlan, setVlan] = useState(0);
  const { busy, error, run } = useAction();
  function add(e: FormEvent) {
    e.preventDefault();
    run(async () => {
      await call("POST", path(props.host), { name, vswitch, vlan });
      setName("");
      props.onChanged();
    });
  }
  return (
    <form className="inline-form" onSubmit={add} aria-label="Add port group">
      <label>Name<input name="name" value={name} required onChange={(e) => setName(e.target.value)} /></label>
      <label>Switch
        <select name="vswitch" value={vswitch} onChange={(e) => setVswitch(e.target.value)}>
          {props.switches.map((s) => <option key={s}>{s}</option>)}
        </select>
      </label>
      <label>VLAN<input name="vlan" type="number" value={vlan} onChange={(e) => setVlan(Number(e.target.value))} /></label>
      <button type="submit" disabled={busy}>Add port group</button>
      {error && <p className="error" role="alert">{error}</p>}
    </form>
  );
}

/// Edit (its VLAN) and Remove, for one port group's row.
export function PortGroupActions(props: { host: string; group: PortGroup; onChanged: () => void }) {
  const { group } = props;
  const [open, setOpen] = useState<"edit" | "remove" | null>(null);
  const [vlan, setVlan] = useState(group.vlan);
  const { error, run } = useAction();
  function save(e: FormEvent) {
    e.preventDefault();
    run(async () => {
      await call("PUT", path(props.host, group.name), { ...group, vlan });
      props.onChanged();
      setOpen(null);
    });
  }
  return (
    <span className="row-actions">
      <button onClick={() => setOpen("edit")}>Edit {group.name}</button>
      <button onClick={() => setOpen("remove")}>Remove {group.name}</button>
      {open === "edit" && (
        <Dialog title={`Edit port group ${group.name}`} onClose={() => setOpen(null)}>
          <form className="dialog-form" onSubmit={save} aria-label="Edit port group">
            <label>VLAN (0 none, 1-4094 tagged, 4095 trunk)
              <input name="vlan" type="number" value={vlan} onChange={(e) => setVlan(Number(e.target.value))} />
            </label>
            {error && <p className="error" role="alert">{error}</p>}
            <div className="dialog-buttons">
              <button type="button" onClick={() => setOpen(null)}>Cancel</button>
              <button type="submit">Save</button>
            </div>
          </form>
        </Dialog>
      )}
      {open === "remove" && (
        <Confirm title="Remove port group" action="Remove" onClose={() => setOpen(null)}
          onConfirm={async () => {
            await call("DELETE", path(props.host, group.name));
            props.onChanged();
          }}>
          <p>Remove port group {group.name} from this host? A group a VM or VMkernel port uses cannot go.</p>
        </Confirm>
      )}
    </span>
  );
}
