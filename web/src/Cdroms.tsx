import { useState } from "react";
import { InventoryObject, Schemas } from "./api";
import { DatastoreFiles } from "./DatastoreFiles";

export type Cdrom = Schemas["Cdrom"];
export type BootDevice = Schemas["BootDevice"];

/// The boot orders offered (the API takes any order of the three).
export const BOOT_ORDERS: BootDevice[][] = [
  ["disk", "cdrom"],
  ["cdrom", "disk"],
  ["disk", "cdrom", "network"],
  ["network", "disk", "cdrom"],
];

// A VM's CD-ROM drives: each an ISO from a datastore (typed, or picked in
// the datastore browser) or empty, connected at power on or not. Drives
// are added and removed only while the VM is off (`fixed`).
export function Cdroms(props: {
  cdroms: Cdrom[];
  onChange: (c: Cdrom[]) => void;
  datastores: InventoryObject[];
  fixed: boolean;
}) {
  const { cdroms } = props;
  const [picking, setPicking] = useState<number | null>(null);
  const [ds, setDs] = useState(props.datastores[0]?.id ?? "");
  const set = (i: number, change: Partial<Cdrom>) =>
    props.onChange(cdroms.map((c, j) => (j === i ? { ...c, ...change } : c)));
  const datastore = props.datastores.find((d) => d.id === ds);
  return (
    <fieldset className="cdroms">
      <legend>CD-ROM drives</legend>
      {cdroms.length === 0 && <p className="empty">No CD-ROM drive.</p>}
      {cdroms.map((c, i) => (
        <div className="cdrom" key={i} role="group" aria-label={`CD-ROM ${i + 1}`}>
          <label>CD-ROM {i + 1} ISO
            <input value={c.iso ?? ""} placeholder="[datastore] iso/installer.iso (empty: no disc)"
              onChange={(e) => set(i, { iso: e.target.value || null })} />
          </label>
          <button type="button" onClick={() => setPicking(picking === i ? null : i)}>Browse…</button>
          <label className="inline">
            <input type="checkbox" checked={c.start_connected ?? true}
              onChange={(e) => set(i, { start_connected: e.target.checked })} /> Connect at power on
          </label>
          {!props.fixed && (
            <button type="button" onClick={() => props.onChange(cdroms.filter((_, j) => j !== i))}>Remove CD-ROM {i + 1}</button>
          )}
          {picking === i && (
            <div className="picker">
              <label>Datastore
                <select value={ds} onChange={(e) => setDs(e.target.value)}>
                  {props.datastores.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
                </select>
              </label>
              {datastore && (
                <DatastoreFiles datastore={datastore} manage={false}
                  onPick={(path) => { set(i, { iso: path }); setPicking(null); }} />
              )}
            </div>
          )}
        </div>
      ))}
      {!props.fixed && cdroms.length < 4 && (
        <button type="button" onClick={() => props.onChange([...cdroms, { iso: null, start_connected: true }])}>
          Add CD-ROM drive
        </button>
      )}
    </fieldset>
  );
}
