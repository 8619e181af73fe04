import { FormEvent, useState } from "react";
import { InventoryObject, Task, call } from "./api";

// The New Virtual Machine wizard: name and placement, hardware, boot and
// network, then a review. It creates the VM through the center (a task the
// tasks pane follows) and can power it on once created.
export function CreateVm(props: {
  placement: InventoryObject;
  objects: InventoryObject[];
  onDone: () => void;
}) {
  const datastores = props.objects.filter((o) => o.kind === "datastore");
  const networks = props.objects.filter((o) => o.kind === "network");
  const [step, setStep] = useState(0);
  const [f, setF] = useState({
    name: "",
    datastore: datastores[0]?.name ?? "",
    cpus: 1,
    memory: 256,
    disk: 64,
    kernel: "",
    initrd: "",
    network: networks.find((n) => n.name === "VM Network")?.name ?? networks[0]?.name ?? "",
    ip: "",
    powerOn: true,
  });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof f) => (e: { target: { value: string; checked?: boolean; type?: string } }) =>
    setF({ ...f, [k]: e.target.type === "checkbox" ? e.target.checked : e.target.type === "number" ? Number(e.target.value) : e.target.value });
  const kernel = f.kernel || `[${f.datastore}] images/vmlinuz`;
  const initrd = f.initrd || `[${f.datastore}] images/initrd.img`;
  const steps = ["Name and placement", "Hardware", "Boot and network", "Ready to complete"];

  async function finish(e: FormEvent) {
    e.preventDefault();
    if (step < steps.length - 1) return setStep(step + 1);
    setBusy(true);
    setError(null);
    const spec = {
      name: f.name,
      datastore: f.datastore,
      cpus: f.cpus,
      memory_mib: f.memory,
      disk: { size_mib: f.disk },
      boot: { kind: "kernel", kernel, initrd, cmdline: "" },
      nics: f.network ? [{ network: f.network, ip: f.ip || undefined }] : [],
    };
    try {
      const task = await call<Task>("POST", `/api/vms?placement=${props.placement.id}`, spec);
      if (f.powerOn) {
        const done = await until(task.id);
        if (done.state === "success") await call("POST", `/api/vms/${encodeURIComponent(f.name)}/power/on`);
      }
      props.onDone();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
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
          <label>Name<input name="name" value={f.name} onChange={set("name")} required pattern="[A-Za-z0-9_.-]+" /></label>
          <label>Datastore
            <select name="datastore" value={f.datastore} onChange={set("datastore")}>
              {datastores.map((d) => <option key={d.id}>{d.name}</option>)}
            </select>
          </label>
        </>
      )}
      {step === 1 && (
        <>
          <label>CPUs<input name="cpus" type="number" min={1} max={64} value={f.cpus} onChange={set("cpus")} /></label>
          <label>Memory (MiB)<input name="memory" type="number" min={64} value={f.memory} onChange={set("memory")} /></label>
          <label>Disk (MiB)<input name="disk" type="number" min={16} value={f.disk} onChange={set("disk")} /></label>
        </>
      )}
      {step === 2 && (
        <>
          <label>Kernel<input name="kernel" value={f.kernel} placeholder={kernel} onChange={set("kernel")} /></label>
          <label>Initrd<input name="initrd" value={f.initrd} placeholder={initrd} onChange={set("initrd")} /></label>
          <label>Network
            <select name="network" value={f.network} onChange={set("network")}>
              {networks.map((n) => <option key={n.id}>{n.name}</option>)}
            </select>
          </label>
          <label>IP address (CIDR, optional)<input name="ip" value={f.ip} placeholder="10.99.1.150/24" onChange={set("ip")} /></label>
        </>
      )}
      {step === 3 && (
        <dl>
          <dt>Name</dt><dd>{f.name}</dd>
          <dt>Placement</dt><dd>{props.placement.name}</dd>
          <dt>Datastore</dt><dd>{f.datastore}</dd>
          <dt>Hardware</dt><dd>{f.cpus} CPU, {f.memory} MiB, disk {f.disk} MiB</dd>
          <dt>Boot</dt><dd>{kernel}</dd>
          <dt>Network</dt><dd>{f.network} {f.ip}</dd>
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

/// Waits for a task to end.
async function until(id: string): Promise<Task> {
  for (;;) {
    const t = await call<Task>("GET", `/api/tasks/${id}`);
    if (t.state === "success" || t.state === "error") return t;
    await new Promise((r) => setTimeout(r, 500));
  }
}
