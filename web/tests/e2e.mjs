// End-to-end test of the web client in headless Chromium (Debian's, driven
// by playwright-core), against a real center with a real lab host and VM.
// The lab test `web_client` runs it with:
//   HIERRO_URL            the center (https://...)
//   HIERRO_USER, HIERRO_PASSWORD        an administrator
//   HIERRO_RO_USER, HIERRO_RO_PASSWORD  a user with Read-only on the root
//   HIERRO_VM             a running VM's name
//   HIERRO_VM_IP          its address
//   HIERRO_HOST           the host it runs on
//   HIERRO_OTHER_HOST     another host, where it is migrated
//   HIERRO_NEW_VM         the name the wizard gives a new VM
//   HIERRO_SCREENSHOTS    where the screenshots of the main pages go
// It exits 0 when every step held, else 1 with what failed.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const url = env("HIERRO_URL");
const vm = env("HIERRO_VM");
const shots = env("HIERRO_SCREENSHOTS");

// The machines have no outside network: nothing may try to reach it.
const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "hierro-chromium-")), {
  executablePath: "/usr/bin/chromium",
  headless: true,
  ignoreHTTPSErrors: true,
  viewport: { width: 1366, height: 800 },
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});

const step = (what) => console.log(`- ${what}`);
const page = browser.pages()[0] ?? (await browser.newPage());
page.setDefaultTimeout(30_000);

async function logIn(user, password) {
  await page.goto(url);
  await page.getByLabel("User name").fill(user);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("tree").waitFor();
}

async function openVm() {
  await page.getByRole("tree").getByText(vm, { exact: true }).first().click();
  await page.getByRole("heading", { name: new RegExp(`^${vm}`) }).waitFor();
}

const powerState = () => page.locator('dd[data-fact="Power state"]');
const tab = (name) => page.getByRole("tablist", { name: "Views of the object" }).getByRole("tab", { name, exact: true });
const treeView = (name) => page.getByRole("tablist", { name: "Inventory views" }).getByRole("tab", { name });
// A tree node's children include this object.
const under = (parent, child) =>
  page.locator(`li[role="treeitem"]:has(> a[data-name="${parent}"]) > ul a[data-name="${child}"]`);
const dialog = (name) => page.getByRole("dialog", { name });

try {
  step("the login page, and a wrong password refused");
  await page.goto(url);
  await page.screenshot({ path: join(shots, "login.png") });
  await page.getByLabel("User name").fill(env("HIERRO_USER"));
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("alert").waitFor();

  step("log in as the administrator; the inventory tree shows the VM");
  const streamed = page.waitForResponse((r) => r.url().includes("/api/events/stream"));
  await logIn(env("HIERRO_USER"), env("HIERRO_PASSWORD"));
  await openVm();

  step("the event stream is open, and a change made elsewhere shows at once");
  const stream = await streamed;
  if (stream.status() !== 200 || !stream.headers()["content-type"]?.startsWith("text/event-stream")) {
    throw new Error(`the event stream answered ${stream.status()} ${stream.headers()["content-type"]}`);
  }
  const api = page.request;
  const token = (await (await api.post(`${url}/api/session`, {
    data: { username: env("HIERRO_USER"), password: env("HIERRO_PASSWORD") },
  })).json()).token;
  const headers = { "hierro-session": token };
  const [dc] = await (await api.get(`${url}/api/inventory?kind=datacenter`, { headers })).json();
  const made = await api.post(`${url}/api/inventory`, {
    headers,
    data: { kind: "folder", name: "made-elsewhere", parent: dc.id },
  });
  if (made.status() !== 201) throw new Error(`making a folder: ${made.status()} ${await made.text()}`);
  // The inventory polls every 15 s; the stream brings the change first.
  await page.getByRole("tree").getByText("made-elsewhere", { exact: true }).waitFor({ timeout: 10_000 });
  await powerState().filter({ hasText: "poweredOn" }).waitFor();
  await page.screenshot({ path: join(shots, "vm-summary.png") });

  step("a name that is markup shows as text: no script runs, and the page forbids inline script");
  const served = await api.get(url);
  const csp = served.headers()["content-security-policy"] ?? "";
  for (const want of ["script-src 'self'", "frame-ancestors 'none'"]) {
    if (!csp.includes(want)) throw new Error(`the page's Content-Security-Policy lacks ${want}: ${csp}`);
  }
  for (const [name, value] of [["x-content-type-options", "nosniff"], ["strict-transport-security", "max-age="]]) {
    if (!(served.headers()[name] ?? "").includes(value)) throw new Error(`the page lacks ${name}: ${value}`);
  }
  let scripted = null;
  page.on("dialog", (d) => {
    scripted = d.message();
    d.dismiss();
  });
  const markup = "<img src=x onerror=alert(1)>";
  const hostile = await api.post(`${url}/api/inventory`, {
    headers,
    data: { kind: "folder", name: markup, parent: dc.id },
  });
  if (hostile.status() !== 201) throw new Error(`making a folder: ${hostile.status()} ${await hostile.text()}`);
  await page.getByRole("tree").getByText(markup, { exact: true }).waitFor({ timeout: 10_000 });
  if (scripted !== null) throw new Error(`a script ran: ${scripted}`);

  step("the inventory's views: the VM under its host, then in its datacenter's folder");
  await under(env("HIERRO_HOST"), vm).waitFor();
  await treeView("VMs and Templates").click();
  await page.locator(`li[role="treeitem"]:has(> a[data-kind="datacenter"]) > ul a[data-name="${vm}"]`).waitFor();
  await page.getByRole("tree").locator('a[data-kind="host"]').first().waitFor({ state: "detached" });
  await treeView("Networking").click();
  await page.getByRole("tree").getByText("VM Network", { exact: true }).waitFor();
  await treeView("Hosts and Clusters").click();

  step("the same page on a large screen");
  await page.setViewportSize({ width: 1920, height: 1080 });
  await powerState().filter({ hasText: "poweredOn" }).waitFor();
  await page.screenshot({ path: join(shots, "inventory-large.png") });
  await page.setViewportSize({ width: 1366, height: 800 });

  step("power the VM off from its right-click menu and watch the task finish");
  await page.getByRole("tree").getByText(vm, { exact: true }).first().click({ button: "right" });
  const menu = page.getByRole("menu", { name: `Actions on ${vm}` });
  await menu.getByRole("menuitem", { name: "Power off" }).waitFor();
  if (await menu.getByRole("menuitem", { name: "Power on" }).isEnabled()) {
    throw new Error("the menu offers to power on a running VM");
  }
  await page.screenshot({ path: join(shots, "context-menu.png") });
  await menu.getByRole("menuitem", { name: "Power off" }).click();
  await menu.waitFor({ state: "detached" });
  await powerState().filter({ hasText: "poweredOff" }).waitFor();
  const tasks = page.getByRole("region", { name: "Recent tasks" });
  await tasks.locator('tr[data-state="success"]').filter({ hasText: vm }).first().waitFor();
  await page.screenshot({ path: join(shots, "vm-powered-off.png") });

  step("take a snapshot of it, see it listed, delete it");
  await tab("Snapshots").click();
  const snapshots = page.getByRole("region", { name: "Snapshots" });
  const take = snapshots.getByRole("form", { name: "Take snapshot" });
  await take.getByLabel("Name", { exact: true }).fill("e2e-snap");
  await take.getByLabel("Description").fill("taken by the browser test");
  await take.getByRole("button", { name: "Take snapshot" }).click();
  const snap = snapshots.locator('tr[data-snapshot="e2e-snap"]');
  await snap.waitFor();
  await page.screenshot({ path: join(shots, "snapshots.png") });
  await snap.getByRole("button", { name: "Delete" }).click();
  await dialog("Delete snapshot").getByRole("button", { name: "Delete" }).click();
  await snap.waitFor({ state: "detached" });
  await snapshots.getByText("No snapshots of this VM.").waitFor();
  await tab("Summary").click();

  step("power it on again; the guest agent reports its address");
  await page.getByRole("button", { name: "Power on" }).click();
  await powerState().filter({ hasText: "poweredOn" }).waitFor();
  await page
    .locator('dd[data-fact="Guest IP addresses"]')
    .filter({ hasText: env("HIERRO_VM_IP") })
    .waitFor({ timeout: 90_000 });
  // Its usage, from the newest performance sample (the summary reads them
  // every 20 s).
  await page.locator('dd[data-fact="Memory consumed"]').filter({ hasText: /\d+ MiB \(\d+ %\)/ }).waitFor({ timeout: 60_000 });

  step("open its graphical console (noVNC) and type a command into the guest's text console; the guest agent reports its effect");
  await page.getByRole("button", { name: "Open console" }).click();
  await page.getByText("Graphical console (connected)").waitFor();
  const screen = page.getByTestId("vnc-screen");
  await screen.locator("canvas").waitFor();
  await screen.click();
  await page.keyboard.press("Enter");
  await page.keyboard.type("hostname typed-in-novnc");
  await page.keyboard.press("Enter");
  const guestName = page.locator('dd[data-fact="Guest host name"]');
  await guestName.filter({ hasText: "typed-in-novnc" }).waitFor({ timeout: 60_000 });
  await page.screenshot({ path: join(shots, "graphical-console.png") });
  // "Send text" types it back.
  await page.getByLabel("Text to send").fill(`hostname ${vm}`);
  await page.getByRole("button", { name: "Send text" }).click();
  await guestName.filter({ hasText: new RegExp(`^${vm}$`) }).waitFor({ timeout: 60_000 });

  step("its serial console, the other tab, shows the guest's prompt");
  await page.getByRole("tablist", { name: "Consoles" }).getByRole("tab", { name: "Serial" }).click();
  const terminal = page.getByTestId("terminal");
  await page.getByText("Console (connected)").waitFor();
  await terminal.click();
  await page.keyboard.press("Enter");
  await terminal.locator(".xterm-rows").filter({ hasText: `${vm} #` }).waitFor({ timeout: 60_000 });
  await page.screenshot({ path: join(shots, "console.png") });
  await page.getByRole("button", { name: "Close console" }).click();

  step("the VM's performance charts fill and move on by themselves");
  await tab("Performance").click();
  const perf = page.getByRole("region", { name: "Performance" });
  const charts = perf.locator(".charts");
  for (const title of ["CPU", "Memory", "Network", "Disk"]) {
    await perf.getByRole("figure", { name: `${title} chart` }).locator("canvas").waitFor();
  }
  await perf.locator('dd[data-counter="mem.consumed"]').filter({ hasText: /\d+\.\d MiB/ }).waitFor();
  await perf.locator('dd[data-counter="cpu.usage"]').filter({ hasText: /\d+\.\d %/ }).waitFor();
  const points = Number(await charts.getAttribute("data-points"));
  await page.waitForFunction(
    (n) => Number(document.querySelector(".charts")?.getAttribute("data-points")) > n,
    points,
  );
  await page.screenshot({ path: join(shots, "vm-performance.png") });
  await perf.getByLabel("Period").selectOption("day");
  await perf.locator(".charts, .empty").first().waitFor();
  if (await perf.getByRole("alert").count()) throw new Error("the past day's charts failed");
  await tab("Summary").click();

  step("migrate it live to the other host (from the right-click menu), and watch it arrive there");
  await page.getByRole("tree").getByText(vm, { exact: true }).first().click({ button: "right" });
  await page.getByRole("menu", { name: `Actions on ${vm}` }).getByRole("menuitem", { name: "Migrate" }).click();
  const migrate = dialog(`Migrate ${vm}`);
  await migrate.getByText("moves live (vMotion)").waitFor();
  await migrate.getByLabel(env("HIERRO_OTHER_HOST")).check();
  await page.screenshot({ path: join(shots, "migrate.png") });
  await migrate.getByRole("button", { name: "Migrate" }).click();
  await migrate.waitFor({ state: "detached" });
  await page.locator("tr[data-state=success]").filter({ hasText: "VirtualMachine.migrate" }).waitFor({ timeout: 120_000 });
  await page.locator('dd[data-fact="Host"]').filter({ hasText: env("HIERRO_OTHER_HOST") }).waitFor();
  await powerState().filter({ hasText: "poweredOn" }).waitFor();

  step("the VM's own events tell its story, newest first");
  await tab("Events").click();
  const own = page.getByRole("region", { name: `Events of ${vm}` });
  await own.locator('tr[data-kind="VmMigratedEvent"]').waitFor();
  const kinds = await own.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.dataset.kind));
  const [migrated, poweredOff] = [kinds.indexOf("VmMigratedEvent"), kinds.indexOf("VmPoweredOffEvent")];
  if (poweredOff < 0 || migrated > poweredOff) throw new Error(`the VM's events: ${kinds.join(", ")}`);
  await page.screenshot({ path: join(shots, "vm-events.png") });
  await tab("Summary").click();

  step("the datastore's files: a folder made, an ISO uploaded into it and listed with its size");
  await treeView("Storage").click();
  await page.getByRole("tree").locator('a[data-kind="datastore"]').first().click();
  await tab("Files").click();
  const files = page.getByRole("region", { name: /^Files of / });
  await files.getByLabel("New folder name").fill("iso");
  await files.getByRole("button", { name: "New folder" }).click();
  await files.getByRole("button", { name: "iso/" }).click();
  await files.getByTestId("datastore-path").filter({ hasText: "] iso" }).waitFor();
  await files.getByLabel("Upload file").setInputFiles({
    name: "tools.iso", mimeType: "application/octet-stream", buffer: Buffer.alloc(8 << 20, 7),
  });
  await files.locator("tr").filter({ hasText: "tools.iso" }).filter({ hasText: "8.0 MiB" }).waitFor();
  await page.screenshot({ path: join(shots, "datastore-files.png") });
  await treeView("Hosts and Clusters").click();

  step("create a VM through the wizard on the host, powered on");
  await page.getByRole("tree").getByText(env("HIERRO_HOST"), { exact: true }).first().click();
  await page.getByRole("button", { name: "New virtual machine" }).click();
  const wizard = page.getByRole("form", { name: "New virtual machine" });
  await wizard.getByLabel("Name").fill(env("HIERRO_NEW_VM"));
  await wizard.getByRole("button", { name: "Next" }).click();
  await wizard.getByLabel("Memory (MiB)").fill("256");
  await wizard.getByLabel("Guest OS").selectOption("windows");
  await wizard.getByRole("button", { name: "Next" }).click();
  await wizard.getByLabel("Boot from").selectOption("template");
  await wizard.getByLabel("Template disk").waitFor();
  await wizard.getByRole("button", { name: "Add NIC" }).click();
  await wizard.getByRole("button", { name: "Add NIC" }).click();
  await wizard.getByRole("button", { name: "Remove NIC 3" }).click();
  await wizard.getByLabel("NIC 3 network").waitFor({ state: "detached" });
  await wizard.getByLabel("NIC 1 network").selectOption("VM Network");
  await wizard.getByLabel("NIC 2 network").selectOption("VLAN 101");
  // A CD-ROM drive, its ISO picked in the datastore browser.
  await wizard.getByRole("button", { name: "Add CD-ROM drive" }).click();
  await wizard.getByRole("group", { name: "CD-ROM 1" }).getByRole("button", { name: "Browse…" }).click();
  await wizard.getByRole("button", { name: "iso/" }).click();
  await wizard.getByRole("button", { name: "tools.iso" }).click();
  await wizard.getByLabel("CD-ROM 1 ISO").and(page.locator('[value$="] iso/tools.iso"]')).waitFor();
  await wizard.getByRole("button", { name: "Next" }).click();
  await wizard.getByText("Ready to complete").waitFor();
  await page.screenshot({ path: join(shots, "wizard.png") });
  await wizard.getByRole("button", { name: "Finish" }).click();
  await wizard.waitFor({ state: "detached", timeout: 120_000 });
  await page.getByRole("tree").getByText(env("HIERRO_NEW_VM"), { exact: true }).first().click();
  await powerState().filter({ hasText: "poweredOn" }).waitFor({ timeout: 60_000 });
  // As the API has it: booting its cloned disk, on two port groups.
  const c = (await (await api.get(`${url}/api/vms/${env("HIERRO_NEW_VM")}`, { headers })).json()).config;
  if (c.memory_mib !== 256 || c.boot.kind !== "disk" || !c.disk.clone_of?.includes("images/disk.qcow2")
      || c.nics.map((n) => n.network).join() !== "VM Network,VLAN 101"
      || c.cdroms.length !== 1 || !c.cdroms[0].iso?.endsWith("] iso/tools.iso")
      || c.guest_os !== "windows" || c.nics.some((n) => n.model !== "e1000e")) {
    throw new Error(`the wizard's VM is not as asked: ${JSON.stringify(c)}`);
  }

  step("deleting the new VM: refused while it runs, done once it is off");
  const newVm = env("HIERRO_NEW_VM");
  const actions = page.getByRole("toolbar", { name: "Actions" });
  await actions.getByRole("button", { name: "Delete VM" }).click();
  const remove = dialog("Delete virtual machine");
  await remove.getByRole("button", { name: "Delete" }).click();
  await remove.getByRole("alert").filter({ hasText: "poweredOn" }).waitFor();
  await page.screenshot({ path: join(shots, "delete-refused.png") });
  await remove.getByRole("button", { name: "Cancel" }).click();
  // While it runs, Edit Settings changes only a NIC's port group.
  await actions.getByRole("button", { name: "Edit settings" }).click();
  let edit = dialog(`Edit settings of ${newVm}`);
  await edit.getByLabel("Memory (MiB)").and(page.locator(":disabled")).waitFor();
  await edit.getByLabel("NIC 2 network").selectOption("VM Network");
  await page.screenshot({ path: join(shots, "edit-settings.png") });
  await edit.getByRole("button", { name: "Save" }).click();
  await edit.waitFor({ state: "detached" });
  const config = async () => (await (await api.get(`${url}/api/vms/${newVm}`, { headers })).json()).config;
  if ((await config()).nics.map((n) => n.network).join() !== "VM Network,VM Network") {
    throw new Error(`NIC 2 did not move: ${JSON.stringify((await config()).nics)}`);
  }
  await actions.getByRole("button", { name: "Power off" }).click();
  await powerState().filter({ hasText: "poweredOff" }).waitFor();
  // Off, its memory and adapters change too.
  await actions.getByRole("button", { name: "Edit settings" }).click();
  edit = dialog(`Edit settings of ${newVm}`);
  await edit.getByLabel("Memory (MiB)").fill("320");
  await edit.getByRole("button", { name: "Remove NIC 2" }).click();
  await edit.getByRole("button", { name: "Save" }).click();
  await edit.waitFor({ state: "detached" });
  const resized = await config();
  if (resized.memory_mib !== 320 || resized.nics.length !== 1) {
    throw new Error(`the VM was not resized: ${JSON.stringify(resized)}`);
  }
  await page.locator('dd[data-fact="Memory"]').filter({ hasText: "320 MiB" }).waitFor();

  step("made a template: gone from Hosts and Clusters, in VMs and Templates, deployed on the other host, a VM again");
  await actions.getByRole("button", { name: "Convert to template" }).click();
  await page.getByRole("heading", { name: new RegExp(`^${newVm} template`) }).waitFor();
  await page.getByRole("tree").getByText(newVm, { exact: true }).waitFor({ state: "detached" });
  await treeView("VMs and Templates").click();
  await page.locator(`a[data-name="${newVm}"] .badge.template`).waitFor();
  if (await actions.getByRole("button", { name: "Power on" }).count() || await tab("Snapshots").count()) {
    throw new Error("a template offers to power on, or snapshots");
  }
  await actions.getByRole("button", { name: "New VM from this template" }).click();
  const deploy = dialog(`New VM from template ${newVm}`);
  await deploy.getByLabel("Name").fill(`${newVm}-copy`);
  await deploy.getByLabel(env("HIERRO_OTHER_HOST")).check();
  await page.screenshot({ path: join(shots, "deploy-template.png") });
  await deploy.getByRole("button", { name: "Deploy" }).click();
  await deploy.waitFor({ state: "detached", timeout: 60_000 });
  const copy = await (await api.get(`${url}/api/vms/${newVm}-copy`, { headers })).json();
  if (copy.config.template || copy.config.memory_mib !== 320 || copy.config.disk.clone_of !== null
      || copy.power_state !== "poweredOff") {
    throw new Error(`the deployed VM is not as its template: ${JSON.stringify(copy)}`);
  }
  await page.locator(`a[data-name="${newVm}-copy"] .badge.vm`).waitFor();
  await actions.getByRole("button", { name: "Convert to virtual machine" }).click();
  await page.getByRole("heading", { name: new RegExp(`^${newVm} vm`) }).waitFor();
  await treeView("Hosts and Clusters").click();
  await actions.getByRole("button", { name: "Delete VM" }).click();
  await remove.getByRole("button", { name: "Delete" }).click();
  await page.getByRole("heading", { name: new RegExp(`^${newVm}`) }).waitFor({ state: "detached" });
  await page.getByRole("tree").getByText(newVm, { exact: true }).first().waitFor({ state: "detached" });
  // Its parent, the datacenter, is shown in its place.
  await page.getByRole("heading").filter({ hasText: "datacenter" }).waitFor();

  step("the events view, filtered by type");
  await page.getByRole("button", { name: "Events" }).click();
  const events = page.getByRole("region", { name: "Events" });
  await events.getByLabel("Type").fill("VmPoweredOffEvent");
  await events.locator('tr[data-kind="VmPoweredOffEvent"]').filter({ hasText: vm }).first().waitFor();
  if ((await events.locator("tbody tr").count()) !== (await events.locator('tr[data-kind="VmPoweredOffEvent"]').count())) {
    throw new Error("the type filter let other events through");
  }
  await page.screenshot({ path: join(shots, "events.png") });
  await page.getByRole("button", { name: "Inventory" }).click();

  step("permissions: who has what on the root, and the editor");
  await page.getByRole("tree").getByText("Datacenters", { exact: true }).first().click();
  const perms = page.getByRole("region", { name: "Permissions" });
  await perms.locator("tr").filter({ hasText: "user viewer" }).filter({ hasText: "Read-only" }).waitFor();
  const add = perms.getByRole("form", { name: "Add permission" });
  await add.locator('input[name="principal"]').fill("user:nobody-at-all");
  await add.getByRole("button", { name: "Add permission" }).click();
  await add.getByRole("alert").waitFor();
  await page.screenshot({ path: join(shots, "permissions.png") });

  step("permissions: give the viewer a role on a datastore, change it, remove it");
  await treeView("Storage").click();
  await page.getByRole("tree").locator('a[data-kind="datastore"]').first().click();
  // Its page says how much room each host sees.
  await page.locator(`dd[data-fact="On ${env("HIERRO_HOST")}"]`).filter({ hasText: /GiB free of .* GiB/ }).waitFor();
  await add.locator('input[name="principal"]').fill("user:viewer");
  await add.locator('select[name="role"]').selectOption({ label: "Read-only" });
  await add.getByRole("button", { name: "Add permission" }).click();
  const viewer = perms.locator("tr").filter({ hasText: "user viewer" });
  await viewer.and(perms.locator('tr[data-role="Read-only"]')).waitFor();
  await perms.getByLabel("Role of user viewer").selectOption({ label: "No access" });
  await viewer.and(perms.locator('tr[data-role="No access"]')).waitFor();
  await page.screenshot({ path: join(shots, "permissions-edit.png") });
  await viewer.getByRole("button", { name: "Remove" }).click();
  await dialog("Remove permission").getByRole("button", { name: "Remove" }).click();
  await viewer.waitFor({ state: "detached" });
  await treeView("Hosts and Clusters").click();

  step("the host's networking: switches, port groups, VMkernel ports, live ports");
  await page.getByRole("tree").getByText(env("HIERRO_HOST"), { exact: true }).first().click();
  await tab("Networking").click();
  const networking = page.getByRole("region", { name: "Networking" });
  await networking.getByRole("table", { name: "Standard switches", exact: true }).getByRole("cell", { name: "vSwitch0", exact: true }).waitFor();
  await networking.getByRole("table", { name: "Port groups", exact: true }).getByRole("cell", { name: "VM Network", exact: true }).waitFor();
  await networking.getByRole("table", { name: "VMkernel ports", exact: true }).getByRole("cell", { name: "vmk0", exact: true }).waitFor();
  await networking.getByRole("table", { name: "Ports", exact: true }).getByRole("cell", { name: "uplink:eth0", exact: true }).waitFor();
  await page.screenshot({ path: join(shots, "networking.png") });

  step("a port group added, its VLAN changed, refused out of range, removed");
  const pgAdd = networking.getByRole("form", { name: "Add port group" });
  await pgAdd.getByLabel("Name").fill("e2e-pg");
  await pgAdd.getByLabel("VLAN").fill("42");
  await pgAdd.getByRole("button", { name: "Add port group" }).click();
  const pgRow = networking.getByRole("table", { name: "Port groups", exact: true }).locator("tr").filter({ hasText: "e2e-pg" });
  await pgRow.filter({ hasText: "42" }).waitFor();
  await pgRow.getByRole("button", { name: "Edit e2e-pg" }).click();
  const pgEdit = dialog("Edit port group e2e-pg");
  await pgEdit.getByLabel(/VLAN/).fill("5000");
  await pgEdit.getByRole("button", { name: "Save" }).click();
  await pgEdit.getByRole("alert").filter({ hasText: "5000" }).waitFor();
  await pgEdit.getByLabel(/VLAN/).fill("43");
  await pgEdit.getByRole("button", { name: "Save" }).click();
  await pgEdit.waitFor({ state: "detached" });
  await pgRow.filter({ hasText: "43" }).waitFor();
  await pgRow.getByRole("button", { name: "Remove e2e-pg" }).click();
  await dialog("Remove port group").getByRole("button", { name: "Remove" }).click();
  await pgRow.waitFor({ state: "detached" });
  await tab("Performance").click();
  await page.getByRole("region", { name: "Performance" }).locator('dd[data-counter="cpu.usage"]').filter({ hasText: /\d+\.\d %/ }).waitFor();
  await page.screenshot({ path: join(shots, "host-performance.png") });
  // The cluster's: its hosts' together.
  await page.getByRole("tree").locator('a[data-kind="cluster"]').first().click();
  await tab("Performance").click();
  await page.getByRole("region", { name: "Performance" }).locator('dd[data-counter="mem.consumed"]').filter({ hasText: /\d+\.\d MiB/ }).waitFor();
  await page.screenshot({ path: join(shots, "cluster-performance.png") });
  await tab("Summary").click();

  step("the roles view: system roles, and a custom role created and deleted");
  await page.getByRole("button", { name: "Roles" }).click();
  const roles = page.getByRole("region", { name: "Roles" });
  await roles.locator('tr[data-role="Administrator"]').waitFor();
  await roles.locator('tr[data-role="Read-only"]').waitFor();
  await roles.getByRole("button", { name: "Read-only", exact: true }).click();
  await roles.getByRole("region", { name: "Privileges of Read-only" }).getByText("System.View", { exact: true }).waitFor();
  // Who has it where: the viewer, on the root folder.
  await roles.getByRole("region", { name: "Where Read-only is given" }).locator("tr")
    .filter({ hasText: "user viewer" }).filter({ hasText: "Datacenters" }).waitFor();
  await page.screenshot({ path: join(shots, "roles.png") });
  await roles.getByRole("button", { name: "New role" }).click();
  const form = dialog("New role");
  await form.getByLabel("Name", { exact: true }).fill("e2e-role");
  await form.getByLabel("VirtualMachine.Interact.PowerOn").check();
  await page.screenshot({ path: join(shots, "role-new.png") });
  await form.getByRole("button", { name: "Save" }).click();
  await form.waitFor({ state: "detached" });
  const custom = roles.locator('tr[data-role="e2e-role"]');
  await custom.waitFor();
  await roles.getByRole("region", { name: "Privileges of e2e-role" }).getByText("VirtualMachine.Interact.PowerOn", { exact: true }).waitFor();
  await custom.getByRole("button", { name: "Delete" }).click();
  await dialog("Delete role").getByRole("button", { name: "Delete" }).click();
  await custom.waitFor({ state: "detached" });
  await page.getByRole("button", { name: "Inventory" }).click();

  step("log out");
  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByRole("button", { name: "Log in" }).waitFor();

  step("a read-only user sees the VM but no action, and the API refuses it");
  await logIn(env("HIERRO_RO_USER"), env("HIERRO_RO_PASSWORD"));
  await openVm();
  await page.getByText("You may not change this VM.").waitFor();
  const buttons = await page.getByRole("toolbar", { name: "Actions" }).getByRole("button").count();
  if (buttons !== 0) throw new Error(`the read-only user sees ${buttons} action buttons`);
  await page.screenshot({ path: join(shots, "read-only.png") });
  await page.getByRole("tree").getByText(vm, { exact: true }).first().click({ button: "right" });
  const roMenu = page.getByRole("menu", { name: `Actions on ${vm}` });
  await roMenu.getByText("No actions you may take here.").waitFor();
  await page.keyboard.press("Escape");
  await roMenu.waitFor({ state: "detached" });
  await tab("Snapshots").click();
  await page.getByRole("region", { name: "Snapshots" }).getByRole("heading", { name: "Snapshots" }).waitFor();
  if ((await page.getByRole("form", { name: "Take snapshot" }).count()) !== 0) {
    throw new Error("the read-only user may take a snapshot");
  }
  const status = await page.evaluate(async (name) => {
    const session = JSON.parse(sessionStorage.getItem("hierro-session"));
    const found = await fetch(`/api/inventory?kind=vm&name=${encodeURIComponent(name)}`, {
      headers: { "hierro-session": session.token },
    }).then((r) => r.json());
    const r = await fetch(`/api/vms/${found[0].id}/power/off`, {
      method: "POST",
      headers: { "hierro-session": session.token },
    });
    return r.status;
  }, vm);
  if (status !== 403) throw new Error(`the API answered ${status} to the read-only user's power off`);
  console.log("all steps held");
} catch (e) {
  await page.screenshot({ path: join(shots, "failure.png") }).catch(() => {});
  console.error(`failed: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
