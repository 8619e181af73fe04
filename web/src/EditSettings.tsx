import { FormEvent, useEffect, useState } from "react";
import { InventoryObject, Schemas, Sent, Task, call, errorText, finished } from "./api";
import { useAction } from "./action";
import { BOOT_ORDERS, BootDevice, Cdrom, Cdroms } from "./Cdroms";
import { Dialog } from "./Dialog";

type VmConfig = Sent<Schemas["VmConfig"]>;
/// A NIC as the form edits it (what `PATCH /api/vms/{id}` takes).
type Nic = Schemas["NicSpec"];

// Edit Settings: a VM's CPUs, memory and network adapters (PATCH
// /api/vms/{id}). While the VM runs only an adapter's port group may
// change, as the host says; the rest waits until it is off. A NIC keeps its
// MAC and guest address.
export function EditSettings(props: {
  vm: InventoryObject;
  objects: InventoryObject[];
  allowed: Set<string>;
  onClose: () => void;
  onChanged: () => void;
}) {
  const { vm } = props;
  const running = vm.data.power_state === "poweredOn";
  const host = String(vm.data.host ?? "");
  const networks = props.objects.filter(
    (o) => o.kind === "network" && (o.data.hosts as Record<string, unknown> | undefined)?.[host],
  );
  const [was, setWas] = useState<VmConfig | null>(null);
  const [cpus, setCpus] = useState(1);
  const [memory, setMemory] = useState(256);
  const [nics, setNics] = useState<Nic[]>([]);
  const [cdroms, setCdroms] = useState<Cdrom[]>([]);
  const [bootOrder, setBootOrder] = useState<BootDevice[]>([]);
  const [bootOnce, setBootOnce] = useState<BootDevice | "">("");
  const [guestOs, setGuestOs] = useState<Schemas["GuestOs"]>("other");
  const datastores = props.objects.filter(
    (o) => o.kind === "datastore" && (o.data.hosts as Record<string, unknown> | undefined)?.[host],
  );
  const { busy, error, setError, run } = useAction();
  useEffect(() => {
    call<Sent<Schemas["VmInfo"]>>("GET", `/api/vms/${vm.id}`).then(
      ({ config }) => {
        setWas(config);
        setCpus(config.cpus);
        setMemory(config.memory_mib);
        setNics(config.nics);
        setCdroms(config.cdroms ?? []);
        setBootOrder(config.boot_order ?? ["disk", "cdrom"]);
        setGuestOs(config.guest_os ?? "other");
      },
      (e) => setError(errorText(e)),
    );
  }, [vm.id]);
  const may = (p: string) => props.allowed.has(p);
  const sizeLocked = running ? "power the VM off to change it" : null;

  async function save(e: FormEvent) {
    e.preventDefault();
    if (!was) return;
    // Only what changed: each part needs its own privilege.
    const change: Record<string, unknown> = {};
    if (cpus !== was.cpus) change.cpus = cpus;
    if (memory !== was.memory_mib) change.memory_mib = memory;
    if (JSON.stringify(nics) !== JSON.stringify(was.nics)) change.nics = nics;
    if (JSON.stringify(cdroms) !== JSON.stringify(was.cdroms ?? [])) change.cdroms = cdroms;
    if (JSON.stringify(bootOrder) !== JSON.stringify(was.boot_order)) change.boot_order = bootOrder;
    if (bootOnce) change.boot_once = bootOnce;
    if (guestOs !== (was.guest_os ?? "other")) change.guest_os = guestOs;
    if (Object.keys(change).length === 0) return props.onClose();
    run(async () => {
      await finished(await call<Task>("PATCH", `/api/vms/${vm.id}`, change));
      props.onChanged();
      props.onClose();
    });
  }

  return (
    <Dialog title={`Edit settings of ${vm.name}`} onClose={props.onClose}>
      <form className="dialog-form" onSubmit={save} aria-label="Edit settings">
        {!was && !error && <p className="notice">Reading the VM's configuration…</p>}
        {was && (
          <>
            <label>CPUs
              <input name="cpus" type="number" min={1} max={64} value={cpus}
                disabled={!!sizeLocked || !may("VirtualMachine.Config.CPUCount")}
                onChange={(e) => setCpus(Number(e.target.value))} />
            </label>
            <label>Memory (MiB)
              <input name="memory" type="number" min={64} value={memory}
                disabled={!!sizeLocked || !may("VirtualMachine.Config.Memory")}
                onChange={(e) => setMemory(Number(e.target.value))} />
            </label>
            {sizeLocked && <p className="notice">CPUs, memory and the number of adapters: {sizeLocked}.</p>}
            <fieldset className="nics" disabled={!may("VirtualMachine.Config.EditDevice")}>
              <legend>Network adapters</legend>
              {nics.length === 0 && <p className="empty">No network adapter.</p>}
              {nics.map((n, i) => (
                <div className="nic" key={i} role="group" aria-label={`NIC ${i + 1}`}>
                  <label>NIC {i + 1} network
                    <select value={n.network} onChange={(e) => setNics(nics.map((x, j) => (j === i ? { ...x, network: e.target.value } : x)))}>
                      {networks.map((o) => <option key={o.id}>{o.name}</option>)}
                    </select>
                  </label>
                  <span className="notice">{n.mac}{n.ip ? `, ${n.ip}` : ""}</span>
                  {!running && <button type="button" onClick={() => setNics(nics.filter((_, j) => j !== i))}>Remove NIC {i + 1}</button>}
                </div>
              ))}
              {!running && networks.length > 0 && (
                <button type="button" onClick={() => setNics([...nics, { network: networks[0].name }])}>Add NIC</button>
              )}
            </fieldset>
            {(may("VirtualMachine.Interact.SetCDMedia") || may("VirtualMachine.Config.EditDevice")) && (
              <Cdroms cdroms={cdroms} onChange={setCdroms} fixed={running} datastores={datastores} />
            )}
            {running && <p className="notice">A changed ISO goes into the running VM's drive at once.</p>}
            <fieldset disabled={!may("VirtualMachine.Config.Settings")}>
              <legend>Boot options</legend>
              <label>Guest OS
                <select name="guestOs" value={guestOs} onChange={(e) => setGuestOs(e.target.value as Schemas["GuestOs"])}>
                  <option value="linux">Linux</option>
                  <option value="windows">Windows</option>
                  <option value="other">Other</option>
                </select>
              </label>
              <label>Boot order
                <select name="bootOrder" value={bootOrder.join(",")}
                  onChange={(e) => setBootOrder(e.target.value.split(",") as BootDevice[])}>
                  {[...BOOT_ORDERS.map((o) => o.join(",")), bootOrder.join(",")]
                    .filter((o, i, all) => all.indexOf(o) === i)
                    .map((o) => <option key={o} value={o}>{o.split(",").join(", ")}</option>)}
                </select>
              </label>
              <label>Next power-on only, boot from
                <select name="bootOnce" value={bootOnce} onChange={(e) => setBootOnce(e.target.value as BootDevice | "")}>
                  <option value="">{was.boot_once ? `${was.boot_once} (already set)` : "the boot order"}</option>
                  <option value="cdrom">CD-ROM</option>
                  <option value="disk">disk</option>
                  <option value="network">network</option>
                </select>
              </label>
            </fieldset>
          </>
        )}
        {error && <p className="error" role="alert">{error}</p>}
        <div className="dialog-buttons">
          <button type="button" onClick={props.onClose}>Cancel</button>
          <button type="submit" disabled={busy || !was}>Save</button>
        </div>
      </form>
    </Dialog>
  );
}
