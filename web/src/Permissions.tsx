import { FormEvent, useState } from "react";
import { Permission, Role, call, errorText, who } from "./api";
import { Confirm } from "./Dialog";
import { usePoll } from "./poll";

/// As the API's DELETE names a principal: `user:NAME` or `group:NAME`.
const key = (p: Permission["principal"]) => ("user" in p ? `user:${p.user}` : `group:${p.group}`);

// Who has what on an object: the permissions set here, and (for those
// allowed to) changing a permission's role, removing it, and a form to
// give a user or group a role here.
export function Permissions(props: { object: string; canModify: boolean }) {
  const list = usePoll(
    () => call<Permission[]>("GET", `/api/permissions?object=${encodeURIComponent(props.object)}`),
    5000,
    props.object,
  );
  const roles = usePoll(() => call<Role[]>("GET", "/api/roles"), 60000, null);
  const [principal, setPrincipal] = useState("");
  const [role, setRole] = useState("read-only");
  const [propagate, setPropagate] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [changeError, setChangeError] = useState<string | null>(null);
  const [removing, setRemoving] = useState<Permission | null>(null);
  const roleName = (id: string) => roles.value?.find((r) => r.id === id)?.name ?? id;
  const roleOptions = (roles.value ?? []).map((r) => <option key={r.id} value={r.id}>{r.name}</option>);

  // Setting a principal's permission here replaces the one it had here:
  // adding one and changing its role are the same call.
  async function set(p: Permission, fail: (message: string | null) => void) {
    fail(null);
    try {
      await call("POST", "/api/permissions", p);
      list.refresh();
      return true;
    } catch (err) {
      fail(errorText(err));
      return false;
    }
  }

  async function add(e: FormEvent) {
    e.preventDefault();
    const [kind, name] = principal.includes(":") ? principal.split(":", 2) : ["user", principal];
    if (kind !== "user" && kind !== "group") {
      setError(`principal ${principal} must be user:NAME or group:NAME`);
      return;
    }
    const who: Permission["principal"] = kind === "group" ? { group: name } : { user: name };
    const p = { principal: who, role, object: props.object, propagate };
    if (await set(p, setError)) setPrincipal("");
  }

  return (
    <section className="permissions" aria-label="Permissions">
      <h3>Permissions</h3>
      {list.error && <p className="error">{list.error}</p>}
      {list.value && list.value.length === 0 && <p className="empty">None set here; those of the parents apply.</p>}
      {list.value && list.value.length > 0 && (
        <table>
          <thead><tr><th>Principal</th><th>Role</th><th>Propagates</th>{props.canModify && <th />}</tr></thead>
          <tbody>
            {list.value.map((p) => (
              <tr key={who(p.principal)} data-role={roleName(p.role)}>
                <td>{who(p.principal)}</td>
                <td>
                  {props.canModify ? (
                    <select aria-label={`Role of ${who(p.principal)}`} value={p.role}
                      onChange={(e) => set({ ...p, role: e.target.value }, setChangeError)}>
                      {roleOptions}
                    </select>
                  ) : (
                    roleName(p.role)
                  )}
                </td>
                <td>{p.propagate ? "yes" : "no"}</td>
                {props.canModify && (
                  <td><button onClick={() => setRemoving(p)}>Remove</button></td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {changeError && <p className="error" role="alert">{changeError}</p>}
      {props.canModify && (
        <form className="add-permission" onSubmit={add} aria-label="Add permission">
          <input name="principal" value={principal} placeholder="user:NAME or group:NAME"
            onChange={(e) => setPrincipal(e.target.value)} required />
          <select name="role" value={role} onChange={(e) => setRole(e.target.value)}>
            {roleOptions}
          </select>
          <label><input type="checkbox" checked={propagate} onChange={(e) => setPropagate(e.target.checked)} /> propagate</label>
          <button type="submit">Add permission</button>
          {error && <p className="error" role="alert">{error}</p>}
        </form>
      )}
      {removing && (
        <Confirm title="Remove permission" action="Remove" onClose={() => setRemoving(null)}
          onConfirm={async () => {
            const q = `principal=${encodeURIComponent(key(removing.principal))}&object=${encodeURIComponent(props.object)}`;
            await call("DELETE", `/api/permissions?${q}`);
            list.refresh();
          }}>
          <p>
            Remove the {roleName(removing.role)} role of {who(removing.principal)} here? Then the permissions of the
            parents apply to it.
          </p>
        </Confirm>
      )}
    </section>
  );
}
