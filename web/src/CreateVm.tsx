import { FormEvent, useState } from "react";
import { InventoryObject, Schemas, Task, call, finished } from "./api";
import { useAction } from "./action";
import { BOOT_ORDERS, Cdrom, Cdroms } from "./Cdroms";

/// A network adapter: the port group it connects to, and the guest's
/// address on it if the guest image is to set one.
interface NicRow {
  network: string;
  ip: string;
}

// The New Virtual Machine wizard: name and placement, hardware, boot and
// network adapters, then a review. It creates the VM through the center (a
// task the tasks pane follows) and can power it on once created.
export function CreateVm(props: {
  placement: InventoryObject;
  objects: InventoryObject[];
  onDone: () => void;
}) {
  // The center puts the VM on a host (the cluster's, for a cluster) that
  // has its datastore and port groups: offer only what such a host has.
  const hosts = props.placement.kind === "host"
    ? [props.placement.id]
    : props.objects.filter((o) => o.kind === "host" && o.parent === props.placement.id).map((o) => o.id);
  const onHosts = (kind: string) =>
    props.objects.filter((o) => o.kind === kind && hosts.some((h) => (o.data.hosts as Record<string, unknown> | undefined)?.[h]));
  const datastores = onHosts("datastore");
  const networks = onHosts("network");
  const firstNetwork = networks.find((n) => n.name === "VM Network")?.name ?? networks[0]?.name;
  const [step, setStep] = useState(0);
  const [f, setF] = useState({
    name: "",
    datastore: datastores[0]?.name ?? "",
    cpus: 1,
    memory: 256,
    disk: 64,
    // "kernel": a blank disk, booted from a kernel and initrd on the
    // datastore; "template": a linked clone of a bootable template disk;
    // "firmware": a blank disk, an OS installed from a CD-ROM.
    source: "kernel",
    bootOrder: 0,
    guestOs: "linux",
    template: "",
    kernel: "",
    initrd: "",
    powerOn: true,
  });
  const [cdroms, setCdroms] = useState<Cdrom[]>([]);
  const [nics, setNics] = useState<NicRow[]>(firstNetwork ? [{ network: firstNetwork, ip: "" }] : []);
  const setNic = (i: number, change: Partial<NicRow>) => setNics(nics.map((n, j) => (j === i ? { ...n, ...change } : n)));
  const { busy, error, run } = useAction();
  const set = (k: keyof typeof f) => (e: { target: { value: string; checked?: boolean; type?: string } }) =>
    setF({ ...f, [k]: e.target.type === "checkbox" ? e.target.checked : e.target.type === "number" ? Number(e.target.value) : e.target.value });
  const kernel = f.kernel || `[${f.datastore}] images/vmlinuz`;
  const initrd = f.initrd || `[${f.datastore}] images/initrd.img`;
  const template = f.template || `[${f.datastore}] images/disk.qcow2`;
  const fromTemplate = f.source === "template";
  const fromFirmware = f.source === "firmware";
  const steps = ["Name and placement", "Hardware", "Boot and network", "Ready to complete"];

  async function finish(e: FormEvent) {
    e.preventDefault();
    if (step < steps.length - 1) return setStep(step + 1);
    const spec = {
      name: f.name,
      datastore: f.datastore,
      cpus: f.cpus,
      memory_mib: f.memory,
      disk: fromTemplate ? { size_mib: f.disk, clone_from: template } : { size_mib: f.disk },
      boot: fromTemplate || fromFirmware ? { kind: "disk" } : { kind: "kernel", kernel, initrd, cmdline: "" },
      cdroms,
      boot_order: BOOT_ORDERS[f.bootOrder],
      guest_os: f.guestOs as Schemas["GuestOs"],
      // An empty address is left out: the API would refuse it as no CIDR.
      nics: nics.map((n) => ({ network: n.network, ip: n.ip || undefined })),
    };
    run(async () => {
      const task = await call<Task>("POST", `/api/vms?placement=${props.placement.id}`, spec);
      if (f.powerOn) {
        await finished(task);
        await call("POST", `/api/vms/${encodeURIComponent(f.name)}/power/on`);
      }
      props.onDone();
    });
  }

  return (
    <form className="wizard" onSubmit={finish} aria-label="New virtual machine">
      <h3>New virtual machine on {props.placement.name}</h3>
      <ol className="steps">
        {steps.map((s, i) => (
          <li key={s} className={i === step ? "current" : undefined}>{s}</li>
        ))}
      </ol>
      {step === 0 && (
        <>
          <label>Name<input name="name" value={f.name} onChange={set("name")} required pattern="[A-Za-z0-9_\-][A-Za-z0-9_.\-]*" /></label>
          <label>Datastore
            <select name="datastore" value={f.datastore} onChange={set("datastore")}>
              {datastores.map((d) => <option key={d.id}>{d.name}</option>)}
            </select>
          </label>
        </>
      )}
      {step === 1 && (
        <>
          <label>Guest OS
            <select name="guestOs" value={f.guestOs} onChange={set("guestOs")}>
              <option value="linux">Linux</option>
              <option value="windows">Windows (e1000e network adapters)</option>
              <option value="other">Other</option>
            </select>
          </label>
          <label>CPUs<input name="cpus" type="number" min={1} max={64} value={f.cpus} onChange={set("cpus")} /></label>
          <label>Memory (MiB)<input name="memory" type="number" min={64} value={f.memory} onChange={set("memory")} /></label>
          <label>Disk (MiB)<input name="disk" type="number" min={16} value={f.disk} onChange={set("disk")} /></label>
        </>
      )}
      {step === 2 && (
        <>
          <label>Boot from
            <select name="source" value={f.source} onChange={set("source")}>
              <option value="kernel">a kernel and initrd (blank disk)</option>
              <option value="template">its disk, a linked clone of a template</option>
              <option value="firmware">its disk, through the firmware (install from a CD-ROM)</option>
            </select>
          </label>
          {fromFirmware ? (
            <label>Boot order
              <select name="bootOrder" value={f.bootOrder} onChange={(e) => setF({ ...f, bootOrder: Number(e.target.value) })}>
                {BOOT_ORDERS.map((o, i) => <option key={i} value={i}>{o.join(", ")}</option>)}
              </select>
            </label>
          ) : fromTemplate ? (
            <label>Template disk<input name="template" value={f.template} placeholder={template} onChange={set("template")} /></label>
          ) : (
            <>
              <label>Kernel<input name="kernel" value={f.kernel} placeholder={kernel} onChange={set("kernel")} /></label>
              <label>Initrd<input name="initrd" value={f.initrd} placeholder={initrd} onChange={set("initrd")} /></label>
            </>
          )}
          <Cdroms cdroms={cdroms} onChange={setCdroms} fixed={false}
            datastores={datastores} />
          <fieldset className="nics">
            <legend>Network adapters</legend>
            {nics.length === 0 && <p className="empty">No network adapter: the VM is not connected.</p>}
            {nics.map((n, i) => (
              <div className="nic" key={i} role="group" aria-label={`NIC ${i + 1}`}>
                <label>NIC {i + 1} network
                  <select value={n.network} onChange={(e) => setNic(i, { network: e.target.value })}>
                    {networks.map((o) => <option key={o.id}>{o.name}</option>)}
                  </select>
                </label>
                <label>NIC {i + 1} IP address (CIDR, optional)
                  <input value={n.ip} placeholder="10.99.1.150/24" onChange={(e) => setNic(i, { ip: e.target.value })} />
                </label>
                <button type="button" onClick={() => setNics(nics.filter((_, j) => j !== i))}>Remove NIC {i + 1}</button>
              </div>
            ))}
            {networks.length === 0 ? (
              <p className="empty">{props.placement.name} has no port groups to connect to.</p>
            ) : (
              <button type="button" onClick={() => setNics([...nics, { network: firstNetwork ?? "", ip: "" }])}>Add NIC</button>
            )}
          </fieldset>
        </>
      )}
      {step === 3 && (
        <dl>
          <dt>Name</dt><dd>{f.name}</dd>
          <dt>Placement</dt><dd>{props.placement.name}</dd>
          <dt>Datastore</dt><dd>{f.datastore}</dd>
          <dt>Guest OS</dt><dd>{f.guestOs}</dd>
          <dt>Hardware</dt><dd>{f.cpus} CPU, {f.memory} MiB, disk {f.disk} MiB</dd>
          <dt>Boot</dt>
          <dd>
            {fromTemplate ? `disk, a linked clone of ${template}` : fromFirmware ? `firmware: ${BOOT_ORDERS[f.bootOrder].join(", ")}` : kernel}
          </dd>
          <dt>CD-ROM drives</dt><dd>{cdroms.length === 0 ? "none" : cdroms.map((c) => c.iso ?? "empty").join("; ")}</dd>
          <dt>Network adapters</dt>
          <dd>{nics.length === 0 ? "none" : nics.map((n, i) => `NIC ${i + 1}: ${n.network}${n.ip ? ` ${n.ip}` : ""}`).join("; ")}</dd>
          <dt>Power on</dt>
          <dd><label><input name="powerOn" type="checkbox" checked={f.powerOn} onChange={set("powerOn")} /> after creation</label></dd>
        </dl>
      )}
      {error && <p className="error" role="alert">{error}</p>}
      <div className="wizard-buttons">
        <button type="button" onClick={props.onDone}>Cancel</button>
        {step > 0 && <button type="button" onClick={() => setStep(step - 1)}>Back</button>}
        <button type="submit" disabled={busy}>{step < steps.length - 1 ? "Next" : "Finish"}</button>
      </div>
    </form>
  );
}
