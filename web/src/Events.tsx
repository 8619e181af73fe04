import { useState } from "react";
import { InventoryObject, Schemas, call } from "./api";
import { useLiveEvents } from "./live";
import { usePoll } from "./poll";

type Event = Schemas["Event"];

// The events view: the latest events, newest first, filtered by type,
// severity and words of the message; all those the user may see, or (as an
// object's Events tab) those about one object.
export function Events(props: { object?: InventoryObject }) {
  const [kind, setKind] = useState("");
  const [severity, setSeverity] = useState("");
  const [text, setText] = useState("");
  const target = props.object ? `&target=${encodeURIComponent(props.object.id)}` : "";
  const query = `/api/events?newest=true&limit=500${target}${kind ? `&kind=${encodeURIComponent(kind)}` : ""}`;
  const events = usePoll(() => call<Event[]>("GET", query), 15000, query);
  useLiveEvents(events.refresh);
  const shown = (events.value ?? [])
    .filter((e) => !severity || e.severity === severity)
    .filter((e) => !text || `${e.message} ${e.target_name}`.toLowerCase().includes(text.toLowerCase()))
    .sort((a, b) => b.id - a.id);
  return (
    <section className="events" aria-label={props.object ? `Events of ${props.object.name}` : "Events"}>
      {!props.object && <h2>Events</h2>}
      <div className="filters">
        <label>Type<input name="kind" value={kind} placeholder="VmPoweredOnEvent" onChange={(e) => setKind(e.target.value)} /></label>
        <label>Severity
          <select name="severity" value={severity} onChange={(e) => setSeverity(e.target.value)}>
            <option value="">any</option>
            <option value="info">info</option>
            <option value="warning">warning</option>
            <option value="error">error</option>
          </select>
        </label>
        <label>Contains<input name="text" value={text} onChange={(e) => setText(e.target.value)} /></label>
      </div>
      {events.error && <p className="error" role="alert">{events.error}</p>}
      {events.value && shown.length === 0 && <p className="empty">No events match.</p>}
      {shown.length > 0 && (
        <table>
          <thead>
            <tr><th>Time</th><th>Severity</th><th>Type</th>{!props.object && <th>Object</th>}<th>User</th><th>Message</th></tr>
          </thead>
          <tbody>
            {shown.map((e) => (
              <tr key={e.id} data-kind={e.kind}>
                <td>{new Date(e.time).toLocaleString()}</td>
                <td className={`severity ${e.severity}`}>{e.severity}</td>
                <td>{e.kind}</td>
                {!props.object && <td>{e.target_name}</td>}
                <td>{e.user}</td>
                <td>{e.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
