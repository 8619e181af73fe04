import { FormEvent, useState } from "react";
import { useAction } from "./action";
import { InventoryObject, Task, call, finished } from "./api";
import { Dialog } from "./Dialog";
import { datacenterOf, useAssignable, whyNotHost } from "./Migrate";

// A new VM from a template (deploy) or from a powered-off VM (clone): a
// name and a host of the source's datacenter. The center copies the
// source's hardware and its whole disk; the dialog stays until the copy is
// made, and shows the answer if it fails.
export function CloneVm(props: {
  source: InventoryObject;
  objects: InventoryObject[];
  onClose: () => void;
  onDone: () => void;
}) {
  const { source, objects } = props;
  const template = source.data.template === true;
  const datacenter = datacenterOf(source, objects);
  const hosts = objects.filter((o) => o.kind === "host" && datacenterOf(o, objects) === datacenter);
  const assignable = useAssignable(hosts.map((h) => h.id));
  const [name, setName] = useState("");
  const [host, setHost] = useState("");
  const { busy, error, run } = useAction();
  const refused = (h: InventoryObject) => whyNotHost(h, assignable);

  function submit(e: FormEvent) {
    e.preventDefault();
    run(async () => {
      await finished(await call<Task>("POST", `/api/vms/${source.id}/clone?placement=${encodeURIComponent(host)}`, { name }));
      props.onDone();
      props.onClose();
    });
  }

  const title = template ? `New VM from template ${source.name}` : `Clone ${source.name}`;
  return (
    <Dialog title={title} onClose={props.onClose}>
      <form className="dialog-form" onSubmit={submit} aria-label={title}>
        <p className="notice">
          The new VM gets {source.name}'s CPUs, memory and port groups (with new MAC addresses), and a full copy of its disk.
        </p>
        <label>Name
          <input name="name" required value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <fieldset>
          <legend>Host</legend>
          {hosts.map((h) => (
            <label key={h.id} className="choice">
              <input type="radio" name="host" value={h.id} checked={host === h.id} required
                disabled={refused(h) !== null} onChange={() => setHost(h.id)} />
              {h.name} {refused(h) && <span className="notice">({refused(h)})</span>}
            </label>
          ))}
        </fieldset>
        {error && <p className="error" role="alert">{error}</p>}
        <div className="dialog-buttons">
          <button type="button" onClick={props.onClose}>Cancel</button>
          <button type="submit" disabled={busy || !host || !name}>{busy ? "Copying…" : template ? "Deploy" : "Clone"}</button>
        </div>
      </form>
    </Dialog>
  );
}
