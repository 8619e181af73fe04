import { Task, call } from "./api";
import { usePoll } from "./poll";

// Recent tasks, newest first, with their progress as they run.
export function Tasks() {
  const tasks = usePoll(() => call<Task[]>("GET", "/api/tasks"), 1000, null);
  const recent = [...(tasks.value ?? [])]
    .sort((a, b) => b.queued_at.localeCompare(a.queued_at))
    .slice(0, 10);
  return (
    <section className="tasks" aria-label="Recent tasks">
      <h3>Recent tasks</h3>
      {tasks.error && <p className="error">{tasks.error}</p>}
      {tasks.value && recent.length === 0 && <p className="empty">No tasks yet.</p>}
      {recent.length > 0 && (
        <table>
          <thead>
            <tr><th>Task</th><th>Target</th><th>Status</th><th>User</th><th>Queued</th></tr>
          </thead>
          <tbody>
            {recent.map((t) => (
              <tr key={t.id} data-state={t.state}>
                <td>{t.operation}</td>
                <td>{t.target_name}</td>
                <td>
                  {t.state === "running" ? (
                    <progress max={100} value={t.progress} aria-label={`${t.progress}%`} />
                  ) : (
                    t.state
                  )}
                  {t.error && <span className="error"> {t.error.message}</span>}
                </td>
                <td>{t.user}</td>
                <td>{new Date(t.queued_at).toLocaleTimeString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
