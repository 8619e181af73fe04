import { Suspense, lazy, useEffect, useState } from "react";
import { useAction } from "./action";
import { InventoryObject, Task, call, finished } from "./api";
import { CloneVm } from "./CloneVm";
import { CreateVm } from "./CreateVm";
import { Confirm } from "./Dialog";
import { EditSettings } from "./EditSettings";
import { Migrate, movePrivilege } from "./Migrate";

// The terminal emulator loads when first used.
const Console = lazy(() => import("./Console").then((m) => ({ default: m.Console })));

/// One thing the user may do to an object, as its page's toolbar and the
/// tree's right-click menu both offer it.
export type Action = { key: string; label: string; enabled: boolean; danger?: boolean };

const POWER: { key: string; label: string; privilege: string; when: string }[] = [
  { key: "on", label: "Power on", privilege: "VirtualMachine.Interact.PowerOn", when: "poweredOff" },
  { key: "off", label: "Power off", privilege: "VirtualMachine.Interact.PowerOff", when: "poweredOn" },
  { key: "shutdown", label: "Shut down guest", privilege: "VirtualMachine.Interact.PowerOff", when: "poweredOn" },
  { key: "reset", label: "Reset", privilege: "VirtualMachine.Interact.Reset", when: "poweredOn" },
];

/// The actions on `o` that `allowed` (the user's privileges there) permits;
/// those that do not fit the object's state now are listed, disabled.
export function actionsFor(o: InventoryObject, allowed: Set<string>): Action[] {
  if (o.kind === "vm" && o.data.template === true) {
    // A template is only cloned, made a VM again, moved or deleted.
    const list: Action[] = [];
    if (allowed.has("VirtualMachine.Provisioning.DeployTemplate")) {
      list.push({ key: "clone", label: "New VM from this template", enabled: true });
    }
    if (allowed.has("VirtualMachine.Provisioning.MarkAsVM")) {
      list.push({ key: "to-vm", label: "Convert to virtual machine", enabled: true });
    }
    if (allowed.has(movePrivilege(false))) list.push({ key: "migrate", label: "Migrate", enabled: true });
    if (allowed.has("VirtualMachine.Inventory.Delete")) {
      list.push({ key: "delete", label: "Delete template", enabled: true, danger: true });
    }
    return list;
  }
  if (o.kind === "vm") {
    const state = String(o.data.power_state ?? "");
    const on = state === "poweredOn";
    const list: Action[] = POWER.filter((a) => allowed.has(a.privilege)).map((a) => ({
      key: a.key,
      label: a.label,
      enabled: state === a.when,
    }));
    if (allowed.has("VirtualMachine.Interact.ConsoleInteract")) {
      list.push({ key: "console", label: "Open console", enabled: on });
    }
    if (["Config.CPUCount", "Config.Memory", "Config.EditDevice", "Config.Settings", "Interact.SetCDMedia"]
      .some((p) => allowed.has(`VirtualMachine.${p}`))) {
      list.push({ key: "edit", label: "Edit settings", enabled: true });
    }
    if (allowed.has(movePrivilege(on))) list.push({ key: "migrate", label: "Migrate", enabled: true });
    if (allowed.has("VirtualMachine.Provisioning.Clone")) {
      list.push({ key: "clone", label: "Clone", enabled: !on });
    }
    if (allowed.has("VirtualMachine.Provisioning.MarkAsTemplate")) {
      list.push({ key: "to-template", label: "Convert to template", enabled: !on });
    }
    // Not disabled when it runs: the host's refusal says what to do.
    if (allowed.has("VirtualMachine.Inventory.Delete")) {
      list.push({ key: "delete", label: "Delete VM", enabled: true, danger: true });
    }
    return list;
  }
  if ((o.kind === "host" || o.kind === "cluster") && allowed.has("VirtualMachine.Inventory.Create")) {
    return [{ key: "create", label: "New virtual machine", enabled: true }];
  }
  return [];
}

/// An action asked for elsewhere: in the tree's menu.
export type ActionRequest = { object: string; key: string };

// The object's actions as a toolbar, and the dialogs they open. A request
// from the tree's menu runs as a click on its button would.
export function ObjectActions(props: {
  object: InventoryObject;
  allowed: Set<string>;
  objects: InventoryObject[];
  request: ActionRequest | null;
  onRequestHandled: () => void;
  onChanged: () => void;
}) {
  const { object: o, allowed } = props;
  const { error, run } = useAction();
  const [open, setOpen] = useState<string | null>(null);
  const actions = actionsFor(o, allowed);
  function perform(key: string) {
    if (POWER.some((a) => a.key === key)) {
      run(async () => {
        await call("POST", `/api/vms/${o.id}/power/${key}`);
        props.onChanged();
      });
    } else if (key === "to-template" || key === "to-vm") {
      run(async () => {
        await finished(await call<Task>("PATCH", `/api/vms/${o.id}`, { template: key === "to-template" }));
        props.onChanged();
      });
    } else {
      setOpen(key);
    }
  }
  // A request runs once: it is handed back as done, so that coming back to
  // this page later does not run it again.
  const request = props.request?.object === o.id ? props.request : null;
  useEffect(() => {
    if (!request) return;
    const action = actions.find((a) => a.key === request.key);
    if (action?.enabled) perform(action.key);
    props.onRequestHandled();
  }, [request]);
  // Deleting is a task: the dialog shows its error, if any; once the VM
  // leaves the inventory the shell shows its parent.
  async function remove() {
    await finished(await call<Task>("DELETE", `/api/vms/${o.id}`));
    props.onChanged();
  }
  const close = () => setOpen(null);
  if (o.kind !== "vm" && actions.length === 0) return null;
  if (open === "create") {
    return <CreateVm placement={o} objects={props.objects} onDone={() => (close(), props.onChanged())} />;
  }
  return (
    <>
      <div className="actions" role="toolbar" aria-label="Actions">
        {actions.length === 0 && (
          <span className="empty">You may not change this {o.data.template === true ? "template" : "VM"}.</span>
        )}
        {actions.map((a) => (
          <button key={a.key} className={a.danger ? "danger" : undefined} disabled={!a.enabled}
            onClick={() => perform(a.key)}>
            {a.label}
          </button>
        ))}
        {error && <p className="error" role="alert">{error}</p>}
      </div>
      {open === "console" && (
        <Suspense fallback={<p className="notice">Loading the console…</p>}>
          <Console vm={o.id} onClose={close} />
        </Suspense>
      )}
      {open === "edit" && (
        <EditSettings vm={o} objects={props.objects} allowed={allowed} onClose={close} onChanged={props.onChanged} />
      )}
      {open === "migrate" && <Migrate vm={o} objects={props.objects} onClose={close} onStarted={props.onChanged} />}
      {open === "clone" && <CloneVm source={o} objects={props.objects} onClose={close} onDone={props.onChanged} />}
      {open === "delete" && (
        <Confirm title={o.data.template === true ? "Delete template" : "Delete virtual machine"} action="Delete"
          onConfirm={remove} onClose={close}>
          <p>Delete {o.name} and its files from datastore {String(o.data.datastore ?? "")}? This cannot be undone.</p>
        </Confirm>
      )}
    </>
  );
}
