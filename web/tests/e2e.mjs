// End-to-end test of the web client in headless Chromium (Debian's, driven
// by playwright-core), against a real center with a real lab host and VM.
// The lab test `web_client` runs it with:
//   HIERRO_URL            the center (https://...)
//   HIERRO_USER, HIERRO_PASSWORD        an administrator
//   HIERRO_RO_USER, HIERRO_RO_PASSWORD  a user with Read-only on the root
//   HIERRO_VM             a running VM's name
//   HIERRO_VM_IP          its address
//   HIERRO_HOST           the host it runs on
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

try {
  step("the login page, and a wrong password refused");
  await page.goto(url);
  await page.screenshot({ path: join(shots, "login.png") });
  await page.getByLabel("User name").fill(env("HIERRO_USER"));
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("alert").waitFor();

  step("log in as the administrator; the inventory tree shows the VM");
  await logIn(env("HIERRO_USER"), env("HIERRO_PASSWORD"));
  await openVm();
  await powerState().filter({ hasText: "poweredOn" }).waitFor();
  await page.screenshot({ path: join(shots, "vm-summary.png") });

  step("power the VM off and watch the task finish");
  await page.getByRole("button", { name: "Power off" }).click();
  await powerState().filter({ hasText: "poweredOff" }).waitFor();
  const tasks = page.getByRole("region", { name: "Recent tasks" });
  await tasks.locator('tr[data-state="success"]').filter({ hasText: vm }).first().waitFor();
  await page.screenshot({ path: join(shots, "vm-powered-off.png") });

  step("power it on again; the guest agent reports its address");
  await page.getByRole("button", { name: "Power on" }).click();
  await powerState().filter({ hasText: "poweredOn" }).waitFor();
  await page
    .locator('dd[data-fact="Guest IP addresses"]')
    .filter({ hasText: env("HIERRO_VM_IP") })
    .waitFor({ timeout: 90_000 });

  step("open its console and read the guest's prompt");
  await page.getByRole("button", { name: "Open console" }).click();
  const terminal = page.getByTestId("terminal");
  await page.getByText("Console (connected)").waitFor();
  await terminal.click();
  await page.keyboard.press("Enter");
  await terminal.locator(".xterm-rows").filter({ hasText: `${vm} #` }).waitFor({ timeout: 60_000 });
  await page.screenshot({ path: join(shots, "console.png") });
  await page.getByRole("button", { name: "Close console" }).click();

  step("create a VM through the wizard on the host, powered on");
  await page.getByRole("tree").getByText(env("HIERRO_HOST"), { exact: true }).first().click();
  await page.getByRole("button", { name: "New virtual machine" }).click();
  const wizard = page.getByRole("form", { name: "New virtual machine" });
  await wizard.getByLabel("Name").fill(env("HIERRO_NEW_VM"));
  await wizard.getByRole("button", { name: "Next" }).click();
  await wizard.getByLabel("Memory (MiB)").fill("256");
  await wizard.getByRole("button", { name: "Next" }).click();
  await wizard.getByLabel("Network").selectOption("VM Network");
  await wizard.getByRole("button", { name: "Next" }).click();
  await wizard.getByText("Ready to complete").waitFor();
  await page.screenshot({ path: join(shots, "wizard.png") });
  await wizard.getByRole("button", { name: "Finish" }).click();
  await wizard.waitFor({ state: "detached", timeout: 120_000 });
  await page.getByRole("tree").getByText(env("HIERRO_NEW_VM"), { exact: true }).first().click();
  await powerState().filter({ hasText: "poweredOn" }).waitFor({ timeout: 60_000 });

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
