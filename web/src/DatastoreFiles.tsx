import { useState } from "react";
import { InventoryObject, Schemas, Sent, call, errorText, savedSession } from "./api";
import { Dialog } from "./Dialog";
import { usePoll } from "./poll";

type Folder = Sent<Schemas["DatastoreFolder"]>;

const size = (n: number) =>
  n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${n} B`;

// A datastore's files (vSphere's datastore browser): folders to open,
// files to download; with `manage`, folders made, files uploaded (with a
// progress bar), renamed and deleted. With `onPick`, clicking a file
// picks it (a datastore path, "[ds] folder/file") instead.
export function DatastoreFiles(props: {
  datastore: InventoryObject;
  manage: boolean;
  onPick?: (path: string) => void;
}) {
  const ds = props.datastore;
  const [path, setPath] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const listing = usePoll(
    () => call<Folder>("GET", `/api/datastores/${ds.id}/browse?path=${encodeURIComponent(path)}`),
    10000,
    `${ds.id}/${path}`,
  );
  const inside = (name: string) => (path ? `${path}/${name}` : name);
  const act = (f: () => Promise<unknown>) => {
    setError(null);
    f().then(listing.refresh, (e) => setError(errorText(e)));
  };
  const [folderName, setFolderName] = useState("");
  // The entry being renamed, and its new path.
  const [moving, setMoving] = useState<{ from: string; to: string } | null>(null);
  const mkdir = () => {
    if (!folderName) return;
    act(() => call("POST", `/api/datastores/${ds.id}/folders`, { path: inside(folderName) }));
    setFolderName("");
  };
  const move = () => {
    if (!moving || moving.to === moving.from) return setMoving(null);
    const { from, to } = moving;
    act(() => call("POST", `/api/datastores/${ds.id}/move`, { from, to, overwrite: false }));
    setMoving(null);
  };
  // The entry whose deletion waits to be confirmed.
  const [deleting, setDeleting] = useState<string | null>(null);
  const remove = (p: string) => {
    setDeleting(null);
    act(() => call("DELETE", `/api/datastores/${ds.id}/file?path=${encodeURIComponent(p)}`));
  };
  // XMLHttpRequest, not fetch: only it reports an upload's progress.
  const upload = (file: File) => {
    setError(null);
    setProgress(0);
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", `/api/datastores/${ds.id}/file?path=${encodeURIComponent(inside(file.name))}`);
    xhr.setRequestHeader("content-type", "application/octet-stream");
    const token = savedSession()?.token;
    if (token) xhr.setRequestHeader("hierro-session", token);
    xhr.upload.onprogress = (e) => e.lengthComputable && setProgress(Math.floor((100 * e.loaded) / e.total));
    xhr.onloadend = () => {
      setProgress(null);
      if (xhr.status >= 200 && xhr.status < 300) return listing.refresh();
      let message = `the upload failed (${xhr.status || "no answer"})`;
      try {
        message = JSON.parse(xhr.responseText).error.message;
      } catch {
        /* not our JSON: keep the status */
      }
      setError(message);
    };
    xhr.send(file);
  };
  const download = (p: string) =>
    `/api/datastores/${ds.id}/file?path=${encodeURIComponent(p)}&session=${encodeURIComponent(savedSession()?.token ?? "")}`;
  const entries = listing.value?.entries ?? [];
  return (
    <section className="datastore-files" aria-label={`Files of ${ds.name}`}>
      <div className="toolbar">
        <span data-testid="datastore-path">[{ds.name}] {path || "/"}</span>
        <button type="button" disabled={!path} onClick={() => setPath(path.split("/").slice(0, -1).join("/"))}>Up</button>
        {props.manage && (
          <>
            <input aria-label="New folder name" placeholder="New folder name" value={folderName}
              onChange={(e) => setFolderName(e.target.value)} />
            <button type="button" disabled={!folderName} onClick={mkdir}>New folder</button>
            <label className="upload">Upload file
              <input type="file" aria-label="Upload file" disabled={progress !== null}
                onChange={(e) => e.target.files?.[0] && upload(e.target.files[0])} />
            </label>
          </>
        )}
      </div>
      {progress !== null && (
        <progress aria-label="Upload progress" max={100} value={progress}>{progress} %</progress>
      )}
      {(error || listing.error) && <p className="error" role="alert">{error ?? listing.error}</p>}
      {deleting && (
        <Dialog title="Delete file" onClose={() => setDeleting(null)}>
          <p>Delete [{ds.name}] {deleting} and all it holds? This cannot be undone.</p>
          <div className="dialog-buttons">
            <button type="button" onClick={() => setDeleting(null)}>Cancel</button>
            <button type="button" className="danger" onClick={() => remove(deleting)}>Delete</button>
          </div>
        </Dialog>
      )}
      <table>
        <thead><tr><th>Name</th><th>Size</th><th>Modified</th><th /></tr></thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.name}>
              <td>
                {e.kind === "folder" ? (
                  <button type="button" className="link" onClick={() => setPath(e.path)}>{e.name}/</button>
                ) : props.onPick ? (
                  <button type="button" className="link" onClick={() => props.onPick!(`[${ds.name}] ${e.path}`)}>{e.name}</button>
                ) : (
                  <a href={download(e.path)} download={e.name}>{e.name}</a>
                )}
              </td>
              <td>{e.kind === "file" ? size(e.size_bytes) : ""}</td>
              <td>{new Date(e.modified).toLocaleString()}</td>
              <td>
                {props.manage && moving?.from === e.path && (
                  <>
                    <input aria-label={`New path of ${e.name}`} value={moving.to}
                      onChange={(x) => setMoving({ from: e.path, to: x.target.value })} />
                    <button type="button" onClick={move}>Move</button>
                  </>
                )}
                {props.manage && moving?.from !== e.path && (
                  <>
                    <button type="button" onClick={() => setMoving({ from: e.path, to: e.path })}>Rename</button>
                    <button type="button" className="danger" onClick={() => setDeleting(e.path)}>Delete</button>
                  </>
                )}
              </td>
            </tr>
          ))}
          {listing.value && entries.length === 0 && <tr><td colSpan={4} className="empty">This folder is empty.</td></tr>}
        </tbody>
      </table>
    </section>
  );
}
