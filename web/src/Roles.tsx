import { FormEvent, useState } from "react";
import { InventoryObject, Permission, Role, Schemas, call, who } from "./api";
import { useAction } from "./action";
import { Confirm, Dialog } from "./Dialog";
import { usePoll, usePrivileges } from "./poll";

type Privilege = Schemas["PrivilegeInfo"];

/// Every custom role holds these (the center adds them), as in vSphere.
const BASE = ["System.Anonymous", "System.View", "System.Read"];

/// A privilege's group: its id without the last part
/// (`VirtualMachine.Interact` for `VirtualMachine.Interact.PowerOn`).
const group = (id: string) => id.slice(0, id.lastIndexOf(".")) || id;

// The roles view, as vSphere's Administration > Roles: every role and its
// privileges; for those holding Authorization.ModifyRoles on the root,
// custom roles made from a checklist of privileges, changed and deleted.
// System roles are read-only.
export function Roles(props: { objects: InventoryObject[] }) {
  const roles = usePoll(() => call<Role[]>("GET", "/api/roles"), 10000, null);
  // Who has what where: the permissions on every object the user may read.
  const given = usePoll(() => call<Permission[]>("GET", "/api/permissions?all=true"), 10000, null);
  const catalogue = usePoll(() => call<Privilege[]>("GET", "/api/privileges"), 600000, null);
  const canModify = usePrivileges("root")?.has("Authorization.ModifyRoles") ?? false;
  const [shown, setShown] = useState<string | null>(null);
  const [editing, setEditing] = useState<Role | "new" | null>(null);
  const [deleting, setDeleting] = useState<Role | null>(null);
  const list = [...(roles.value ?? [])].sort((a, b) => Number(b.system) - Number(a.system) || a.name.localeCompare(b.name));
  const role = list.find((r) => r.id === shown);
  return (
    <section className="roles" aria-label="Roles">
      <h2>Roles</h2>
      {canModify && (
        <div className="actions">
          <button onClick={() => setEditing("new")}>New role</button>
        </div>
      )}
      {roles.error && <p className="error" role="alert">{roles.error}</p>}
      {roles.value && list.length === 0 && <p className="empty">No roles you may see.</p>}
      {list.length > 0 && (
        <table aria-label="Roles">
          <thead><tr><th>Role</th><th>Kind</th><th>Privileges</th>{canModify && <th />}</tr></thead>
          <tbody>
            {list.map((r) => (
              <tr key={r.id} data-role={r.name} className={r.id === shown ? "selected" : undefined}>
                <td>
                  <button className="link" aria-expanded={r.id === shown} onClick={() => setShown(r.id === shown ? null : r.id)}>
                    {r.name}
                  </button>
                </td>
                <td>{r.system ? "system (read-only)" : "custom"}</td>
                <td>{r.privileges.length}</td>
                {canModify && (
                  <td className="row-actions">
                    {!r.system && (
                      <>
                        <button onClick={() => setEditing(r)}>Edit</button>
                        <button onClick={() => setDeleting(r)}>Delete</button>
                      </>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {role && <RolePrivileges role={role} catalogue={catalogue.value ?? []} />}
      {role && given.value && (
        <RoleUse role={role} permissions={given.value.filter((p) => p.role === role.id)} objects={props.objects} />
      )}
      {editing && (
        <RoleForm role={editing === "new" ? null : editing} catalogue={catalogue.value ?? []}
          onClose={() => setEditing(null)}
          onSaved={(r) => {
            roles.refresh();
            setShown(r.id);
          }} />
      )}
      {deleting && (
        <Confirm title="Delete role" action="Delete" onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await call("DELETE", `/api/roles/${encodeURIComponent(deleting.id)}`);
            roles.refresh();
          }}>
          <p>Delete role {deleting.name}? A role some permission still gives cannot be deleted: remove or change those permissions first.</p>
        </Confirm>
      )}
    </section>
  );
}

// What a role allows, by group of privileges.
function RolePrivileges(props: { role: Role; catalogue: Privilege[] }) {
  const describe = (id: string) => props.catalogue.find((p) => p.id === id)?.description ?? "";
  const groups = [...new Set(props.role.privileges.map(group))].sort();
  return (
    <section className="role-privileges" aria-label={`Privileges of ${props.role.name}`}>
      <h3>Privileges of {props.role.name}</h3>
      {groups.length === 0 ? (
        <p className="empty">None: where this role is given, it denies everything.</p>
      ) : (
        <dl>
          {groups.map((g) => [
            <dt key={`${g}t`}>{g}</dt>,
            <dd key={`${g}d`}>
              <ul>
                {props.role.privileges.filter((p) => group(p) === g).map((p) => (
                  <li key={p}><code>{p}</code> {describe(p)}</li>
                ))}
              </ul>
            </dd>,
          ])}
        </dl>
      )}
    </section>
  );
}

// Where a role is given, and to whom.
function RoleUse(props: { role: Role; permissions: Permission[]; objects: InventoryObject[] }) {
  const name = (id: string) => props.objects.find((o) => o.id === id)?.name ?? id;
  return (
    <section className="role-use" aria-label={`Where ${props.role.name} is given`}>
      <h3>Where {props.role.name} is given</h3>
      {props.permissions.length === 0 ? (
        <p className="empty">Nowhere you may see.</p>
      ) : (
        <table>
          <thead><tr><th>User or group</th><th>Object</th><th>Propagates</th></tr></thead>
          <tbody>
            {props.permissions.map((p) => (
              <tr key={`${who(p.principal)} ${p.object}`}>
                <td>{who(p.principal)}</td>
                <td>{name(p.object)}</td>
                <td>{p.propagate ? "yes" : "no"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

// A new role's name and privileges, or an existing custom role's
// privileges (a role keeps its name), as a checklist by group.
function RoleForm(props: {
  role: Role | null;
  catalogue: Privilege[];
  onClose: () => void;
  onSaved: (r: Role) => void;
}) {
  const [name, setName] = useState("");
  const [chosen, setChosen] = useState(new Set(props.role?.privileges ?? BASE));
  const { busy, error, run } = useAction();
  const groups = [...new Set(props.catalogue.map((p) => group(p.id)))];
  const toggle = (id: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(id);
    else next.delete(id);
    setChosen(next);
  };

  function save(e: FormEvent) {
    e.preventDefault();
    const privileges = [...chosen];
    run(async () => {
      const saved = props.role
        ? await call<Role>("PUT", `/api/roles/${encodeURIComponent(props.role.id)}`, { privileges })
        : await call<Role>("POST", "/api/roles", { name, privileges });
      props.onSaved(saved);
      props.onClose();
    });
  }

  return (
    <Dialog title={props.role ? `Edit role ${props.role.name}` : "New role"} onClose={props.onClose}>
      <form className="dialog-form role-form" onSubmit={save} aria-label="Role">
        {!props.role && (
          <label>Name<input name="name" value={name} onChange={(e) => setName(e.target.value)} required /></label>
        )}
        <div className="checklist">
          {props.catalogue.length === 0 && <p className="empty">Loading the privileges…</p>}
          {groups.map((g) => (
            <fieldset key={g}>
              <legend>{g}</legend>
              {props.catalogue.filter((p) => group(p.id) === g).map((p) => (
                <label key={p.id} className="choice">
                  <input type="checkbox" checked={chosen.has(p.id)} disabled={BASE.includes(p.id)}
                    onChange={(e) => toggle(p.id, e.target.checked)} />
                  <code>{p.id}</code> {p.description}
                </label>
              ))}
            </fieldset>
          ))}
        </div>
        <p className="notice">{BASE.join(", ")} are part of every role.</p>
        {error && <p className="error" role="alert">{error}</p>}
        <div className="dialog-buttons">
          <button type="button" onClick={props.onClose}>Cancel</button>
          <button type="submit" disabled={busy}>Save</button>
        </div>
      </form>
    </Dialog>
  );
}
