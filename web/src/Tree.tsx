import { useState } from "react";
import { InventoryObject } from "./api";

// A short badge per kind (fonts without emoji show them all the same).
const BADGE: Record<string, string> = {
  folder: "F", datacenter: "DC", cluster: "CL", host: "H", vm: "VM",
  datastore: "DS", network: "N", dvswitch: "DVS",
};

/// The vSphere Client's four inventory views: what each shows, and where.
export const VIEWS = {
  hosts: { label: "Hosts and Clusters", kinds: ["folder", "datacenter", "cluster", "host", "vm"] },
  vms: { label: "VMs and Templates", kinds: ["folder", "datacenter", "vm"] },
  storage: { label: "Storage", kinds: ["folder", "datacenter", "datastore"] },
  networking: { label: "Networking", kinds: ["folder", "datacenter", "network", "dvswitch"] },
};
export type View = keyof typeof VIEWS;

/// A VM kept as a template.
export const isTemplate = (o: InventoryObject) => o.kind === "vm" && o.data.template === true;

// The inventory as a tree, in one of the views. In Hosts and Clusters a VM
// sits under the host that runs it and templates are not shown (as in the
// vSphere Client); in VMs and Templates, VMs and templates are in their folders.
export function Tree(props: {
  objects: InventoryObject[];
  view: View;
  selected: string | null;
  onSelect: (id: string) => void;
  /// Right click (or the keyboard's menu key) on an object, at x, y.
  onMenu: (id: string, x: number, y: number) => void;
}) {
  const shown = props.objects.filter(
    (o) => VIEWS[props.view].kinds.includes(o.kind) && !(props.view === "hosts" && isTemplate(o)),
  );
  const ids = new Set(shown.map((o) => o.id));
  const parentOf = (o: InventoryObject) => {
    const host = o.data.host;
    return props.view === "hosts" && o.kind === "vm" && typeof host === "string" && ids.has(host) ? host : o.parent;
  };
  const children = new Map<string, InventoryObject[]>();
  const roots: InventoryObject[] = [];
  for (const o of shown) {
    const parent = parentOf(o);
    if (parent && ids.has(parent)) {
      const list = children.get(parent) ?? [];
      list.push(o);
      children.set(parent, list);
    } else {
      roots.push(o);
    }
  }
  const byName = (a: InventoryObject, b: InventoryObject) => a.name.localeCompare(b.name);
  return (
    <ul className="tree" role="tree">
      {roots.sort(byName).map((o) => (
        <Node key={o.id} object={o} children={children} sort={byName} {...props} />
      ))}
    </ul>
  );
}

function Node(props: {
  object: InventoryObject;
  children: Map<string, InventoryObject[]>;
  sort: (a: InventoryObject, b: InventoryObject) => number;
  selected: string | null;
  onSelect: (id: string) => void;
  onMenu: (id: string, x: number, y: number) => void;
}) {
  const { object: o } = props;
  const [open, setOpen] = useState(true);
  const kids = [...(props.children.get(o.id) ?? [])].sort(props.sort);
  return (
    <li role="treeitem" aria-expanded={kids.length ? open : undefined} aria-selected={props.selected === o.id}>
      {kids.length > 0 && (
        <button className="twist" aria-label={open ? "Collapse" : "Expand"} onClick={() => setOpen(!open)}>
          {open ? "▾" : "▸"}
        </button>
      )}
      <a href={`#${o.id}`} className={props.selected === o.id ? "selected" : undefined}
        data-kind={o.kind} data-name={o.name}
        onClick={(e) => {
          e.preventDefault();
          props.onSelect(o.id);
        }}
        onContextMenu={(e) => {
          e.preventDefault();
          // From the keyboard the event has no pointer position: the menu
          // goes under the item.
          const at = e.currentTarget.getBoundingClientRect();
          props.onMenu(o.id, e.clientX || at.left, e.clientY || at.bottom);
        }}>
        <span className={`badge ${isTemplate(o) ? "template" : o.kind}`} aria-hidden>
          {isTemplate(o) ? "T" : BADGE[o.kind] ?? "?"}
        </span>{" "}
        <span className="name">{o.name}</span>
      </a>
      {open && kids.length > 0 && (
        <ul role="group">
          {kids.map((k) => (
            <Node key={k.id} {...props} object={k} />
          ))}
        </ul>
      )}
    </li>
  );
}
