// Signs in and consents at the genuine PDS's own OAuth pages in Debian's
// Chromium, as a person would, for tests/api/bluesky.rs. Prints the URL the
// PDS redirects the browser to (Prasaran's callback, with code, state and
// iss) on stdout; the test calls the callback with its own session. (This
// browser has no Prasaran session, so its own visit there is refused before
// the state is looked at.)
//
//   node scripts/pds/consent.mjs AUTHORIZE_URL HANDLE PASSWORD [approve|deny]
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
// playwright-core comes with web/'s packages (scripts/lib/browser.sh installs them).
const { chromium } = createRequire(path.join(root, "web/package.json"))("playwright-core");

const [authorizeUrl, handle, password, decision = "approve"] = process.argv.slice(2);
if (!authorizeUrl || !handle || !password) {
  console.error("usage: consent.mjs AUTHORIZE_URL HANDLE PASSWORD [approve|deny]");
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
});
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(20_000);
  let landed = null;
  // A redirect's target is seen as a request (routes do not see redirects).
  page.on("request", (request) => {
    if (/^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/oauth\//.test(request.url())) landed ??= request.url();
  });
  await page.goto(authorizeUrl);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByLabel("Username or Email").fill(handle);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  const button = decision === "deny" ? "Deny access" : "Authorize";
  await page.getByRole("button", { name: button, exact: true }).click();
  const deadline = Date.now() + 20_000;
  while (!landed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (!landed) throw new Error(`the PDS never redirected back; the page is at ${page.url()}`);
  console.log(landed);
} finally {
  await browser.close();
}
