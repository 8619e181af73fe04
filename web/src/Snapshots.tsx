import { FormEvent, useState } from "react";
import { InventoryObject, Schemas, Task, call, finished } from "./api";
import { useAction } from "./action";
import { Confirm } from "./Dialog";
import { usePoll } from "./poll";

type Snapshot = Schemas["Snapshot"];

// A VM's snapshots, and (by privilege) taking one, going back to one and
// deleting one. Each is a task: the list is read again once it ends, so
// that what is shown is what the host has.
export function Snapshots(props: { vm: InventoryObject; allowed: Set<string>; onChanged: () => void }) {
  const path = `/api/vms/${props.vm.id}/snapshots`;
  const list = usePoll(() => call<Snapshot[]>("GET", path), 5000, path);
  const [asked, setAsked] = useState<{ op: "revert" | "delete"; name: string } | null>(null);
  const canRevert = props.allowed.has("VirtualMachine.State.RevertToSnapshot");
  const canDelete = props.allowed.has("VirtualMachine.State.RemoveSnapshot");
  const snapshots = [...(list.value ?? [])].sort((a, b) => a.created.localeCompare(b.created));

  async function run(method: string, url: string, body?: unknown) {
    await finished(await call<Task>(method, url, body));
    list.refresh();
    props.onChanged();
  }

  return (
    <section className="snapshots" aria-label="Snapshots">
      <h3>Snapshots</h3>
      {props.allowed.has("VirtualMachine.State.CreateSnapshot") && (
        <TakeSnapshot running={props.vm.data.power_state === "poweredOn"}
          take={(name, description) => run("POST", path, { name, description })} />
      )}
      {list.error && <p className="error" role="alert">{list.error}</p>}
      {list.value && snapshots.length === 0 && <p className="empty">No snapshots of this VM.</p>}
      {snapshots.length > 0 && (
        <table>
          <thead>
            <tr><th>Name</th><th>Description</th><th>Taken</th><th>Memory</th>{(canRevert || canDelete) && <th />}</tr>
          </thead>
          <tbody>
            {snapshots.map((s) => (
              <tr key={s.name} data-snapshot={s.name}>
                <td>{s.name}</td>
                <td>{s.description}</td>
                <td>{new Date(s.created).toLocaleString()}</td>
                <td>{s.memory ? "yes" : "no"}</td>
                {(canRevert || canDelete) && (
                  <td className="row-actions">
                    {canRevert && <button onClick={() => setAsked({ op: "revert", name: s.name })}>Revert</button>}
                    {canDelete && <button onClick={() => setAsked({ op: "delete", name: s.name })}>Delete</button>}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {asked?.op === "revert" && (
        <Confirm title="Revert to snapshot" action="Revert" onClose={() => setAsked(null)}
          onConfirm={() => run("POST", `${path}/${encodeURIComponent(asked.name)}/revert`)}>
          <p>Revert {props.vm.name} to snapshot {asked.name}? Its current state is lost unless a snapshot holds it.</p>
        </Confirm>
      )}
      {asked?.op === "delete" && (
        <Confirm title="Delete snapshot" action="Delete" onClose={() => setAsked(null)}
          onConfirm={() => run("DELETE", `${path}/${encodeURIComponent(asked.name)}`)}>
          <p>Delete snapshot {asked.name} of {props.vm.name}? The VM stays as it is now.</p>
        </Confirm>
      )}
    </section>
  );
}

// The name (as the host allows: letters, digits, '-', '_', '.') and a
// description of a new snapshot.
function TakeSnapshot(props: { running: boolean; take: (name: string, description: string) => Promise<void> }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const { busy, error, run } = useAction();
  function submit(e: FormEvent) {
    e.preventDefault();
    run(async () => {
      await props.take(name, description);
      setName("");
      setDescription("");
    });
  }
  return (
    <form className="inline-form" onSubmit={submit} aria-label="Take snapshot">
      <label>Name<input name="name" value={name} onChange={(e) => setName(e.target.value)}
        required maxLength={80} pattern="[A-Za-z0-9_\-][A-Za-z0-9_.\-]*" /></label>
      <label>Description<input name="description" value={description} onChange={(e) => setDescription(e.target.value)} /></label>
      <button type="submit" disabled={busy}>{busy ? "Taking snapshot…" : "Take snapshot"}</button>
      {props.running && <span className="notice">The VM runs: its memory is saved too.</span>}
      {error && <p className="error" role="alert">{error}</p>}
    </form>
  );
}
