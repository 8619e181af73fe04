import { FormEvent, useState } from "react";
import { call } from "./api";
import { usePoll } from "./poll";

interface Permission {
  principal: { user?: string; group?: string };
  role: string;
  object: string;
  propagate: boolean;
}

interface Role {
  id: string;
  name: string;
}

const who = (p: Permission["principal"]) => (p.user ? `user ${p.user}` : `group ${p.group}`);

// Who has what on an object: the permissions set here, and (for those
// allowed to) a form to give a user or group a role here.
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
  const roleName = (id: string) => roles.value?.find((r) => r.id === id)?.name ?? id;

  async function add(e: FormEvent) {
    e.preventDefault();
    setError(null);
    const [kind, name] = principal.includes(":") ? principal.split(":", 2) : ["user", principal];
    try {
      await call("POST", "/api/permissions", {
        principal: { [kind]: name },
        role,
        object: props.object,
        propagate,
      });
      setPrincipal("");
      list.refresh();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  return (
    <section className="permissions" aria-label="Permissions">
      <h3>Permissions</h3>
      {list.error && <p className="error">{list.error}</p>}
      {list.value && list.value.length === 0 && <p className="empty">None set here; those of the parents apply.</p>}
      {list.value && list.value.length > 0 && (
        <table>
          <thead><tr><th>Principal</th><th>Role</th><th>Propagates</th></tr></thead>
          <tbody>
            {list.value.map((p) => (
              <tr key={who(p.principal)}><td>{who(p.principal)}</td><td>{roleName(p.role)}</td><td>{p.propagate ? "yes" : "no"}</td></tr>
            ))}
          </tbody>
        </table>
      )}
      {props.canModify && (
        <form className="add-permission" onSubmit={add} aria-label="Add permission">
          <input name="principal" value={principal} placeholder="user:NAME or group:NAME"
            onChange={(e) => setPrincipal(e.target.value)} required />
          <select name="role" value={role} onChange={(e) => setRole(e.target.value)}>
            {(roles.value ?? []).map((r) => <option key={r.id} value={r.id}>{r.name}</option>)}
          </select>
          <label><input type="checkbox" checked={propagate} onChange={(e) => setPropagate(e.target.checked)} /> propagate</label>
          <button type="submit">Add permission</button>
          {error && <p className="error" role="alert">{error}</p>}
        </form>
      )}
    </section>
  );
}
