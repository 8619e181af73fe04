import { useState } from "react";
import { InventoryObject } from "./api";

// A short badge per kind (fonts without emoji show them all the same).
const BADGE: Record<string, string> = {
  folder: "F", datacenter: "DC", cluster: "CL", host: "H", vm: "VM",
  datastore: "DS", network: "N", dvswitch: "DVS",
};

// The inventory as a tree: datacenters, folders, clusters, hosts, VMs,
// datastores, networks. VMs sit in folders; they also show under their host.
export function Tree(props: {
  objects: InventoryObject[];
  selected: string | null;
  onSelect: (id: string) => void;
}) {
  const children = new Map<string, InventoryObject[]>();
  const ids = new Set(props.objects.map((o) => o.id));
  const roots: InventoryObject[] = [];
  for (const o of props.objects) {
    if (o.parent && ids.has(o.parent)) {
      const list = children.get(o.parent) ?? [];
      list.push(o);
      children.set(o.parent, list);
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
        data-kind={o.kind}
        onClick={(e) => {
          e.preventDefault();
          props.onSelect(o.id);
        }}>
        <span className={`badge ${o.kind}`} aria-hidden>
          {BADGE[o.kind] ?? "?"}
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
