// The center's REST API, as the web client uses it: the session token in
// the `hierro-session` header, JSON both ways, errors as the API's
// `ErrorBody` ({"error": {code, message}}).

import type { components } from "./api-types";

const TOKEN = "hierro-session";

/// The API's types, generated from the committed OpenAPI document
/// (openapi/center.json) by the build: a field renamed there fails here.
export type Schemas = components["schemas"];

/// An answer of the center: serde writes every field that has a default,
/// so those the document marks optional (as a request may leave them out)
/// are there; a field that can be absent is one the code checks for
/// `undefined` anyway.
export type Sent<T> = T extends (infer U)[]
  ? Sent<U>[]
  : T extends object
    ? { [K in keyof T]-?: Sent<Exclude<T[K], undefined>> }
    : T;

/// What the tab keeps of a login.
export type Session = Pick<Schemas["LoginResponse"], "token" | "username">;
export type InventoryObject = Schemas["Object"];
export type Task = Schemas["Task"];
/// A role: a named set of privileges. System roles cannot be changed.
export type Role = Schemas["Role"];

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
  ) {
    super(message);
  }
}

/// What went wrong, in the API's words when it said.
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function savedSession(): Session | null {
  const s = sessionStorage.getItem(TOKEN);
  return s ? (JSON.parse(s) as Session) : null;
}

/// Called when the center says the session is over (401).
let onExpired: () => void = () => {};
export function whenExpired(f: () => void) {
  onExpired = f;
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const session = savedSession();
  const headers: Record<string, string> = {};
  if (session) headers[TOKEN] = session.token;
  if (body !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (r.status === 401 && session) {
    sessionStorage.removeItem(TOKEN);
    onExpired();
  }
  const text = await r.text();
  const value = text ? JSON.parse(text) : null;
  if (!r.ok) {
    const e = value?.error;
    throw new ApiError(r.status, e?.code ?? "http", e?.message ?? `the center answered ${r.status}`);
  }
  return value as T;
}

export async function login(username: string, password: string): Promise<Session> {
  const s = await call<Session>("POST", "/api/session", { username, password });
  sessionStorage.setItem(TOKEN, JSON.stringify({ token: s.token, username: s.username }));
  return s;
}

export async function logout() {
  try {
    await call("DELETE", "/api/session");
  } finally {
    sessionStorage.removeItem(TOKEN);
  }
}

/// The caller's privileges on an object.
export async function privileges(object: string): Promise<Set<string>> {
  const e = await call<Schemas["Effective"]>(
    "GET",
    `/api/effective?object=${encodeURIComponent(object)}`,
  );
  return new Set<string>(e.privileges);
}

/// Follows a task the center answered with until it ends. A failed task
/// throws its error, so that the view that started it can say what went
/// wrong where the user is looking (the tasks pane says it too).
export async function finished(task: Task): Promise<Task> {
  for (let t = task; ; t = await call<Task>("GET", `/api/tasks/${t.id}`)) {
    if (t.state === "success") return t;
    if (t.state === "error") {
      throw new Error(t.error?.message ?? `${t.operation} failed`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/// A role given to a user or group on an object (`GET /api/permissions`).
export type Permission = Schemas["Permission"];

/// A permission's principal as the API's messages name it.
export const who = (p: Permission["principal"]) => ("user" in p ? `user ${p.user}` : `group ${p.group}`);

/// `GET /api/perf/{id}`: a host's or VM's counters on one time axis.
export type PerfSeries = Schemas["PerfSeries"];

/// A counter's newest measured value.
export function newest(values: (number | null)[] | undefined): number | null {
  return [...(values ?? [])].reverse().find((v) => v !== null) ?? null;
}
