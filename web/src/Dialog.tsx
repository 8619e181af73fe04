import { ReactNode, useEffect, useRef } from "react";
import { useAction } from "./action";

// A modal dialog: the browser's own <dialog>, shown modal so that the page
// behind cannot be clicked meanwhile and Escape closes it.
export function Dialog(props: { title: string; onClose: () => void; children: ReactNode }) {
  const box = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    box.current?.showModal();
  }, []);
  return (
    <dialog ref={box} className="dialog" aria-label={props.title} onClose={props.onClose}>
      <h3>{props.title}</h3>
      {props.children}
    </dialog>
  );
}

// Asks before doing something that cannot be undone. The dialog stays
// open while it runs and shows the API's answer if it is refused.
export function Confirm(props: {
  title: string;
  action: string;
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
  children: ReactNode;
}) {
  const { busy, error, run } = useAction();
  const confirm = () =>
    run(async () => {
      await props.onConfirm();
      props.onClose();
    });
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      {props.children}
      {error && <p className="error" role="alert">{error}</p>}
      <div className="dialog-buttons">
        <button type="button" onClick={props.onClose}>Cancel</button>
        <button type="button" className="danger" disabled={busy} onClick={confirm}>{props.action}</button>
      </div>
    </Dialog>
  );
}
