// End to end in a real browser: Debian's Chromium driven by playwright-core
// against the real server (embedded PostgreSQL, dev Manch sandbox).
// BASE_URL, SANDBOX_URL and OUT_DIR come from scripts/web-e2e. Each screen is
// saved as a screenshot in OUT_DIR.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const base = process.env.BASE_URL;
const sandbox = process.env.SANDBOX_URL;
// The dev Mastodon instance started beside the app.
const mastodon = process.env.MASTODON_URL;
const out = process.env.OUT_DIR ?? "test-output";
if (!base || !sandbox || !mastodon) throw new Error("BASE_URL, SANDBOX_URL and MASTODON_URL are required");
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
page.setDefaultTimeout(20_000);
const consoleErrors = [];
page.on(
  "console",
  (m) => m.type() === "error" && page.url().startsWith(base) && consoleErrors.push(`${page.url()}: ${m.text()}`),
);
// Only Prasaran's own pages count (the sandbox's consent page has no favicon).
page.on("response", (r) => r.status() === 404 && r.url().startsWith(base) && consoleErrors.push(`404 ${r.url()}`));
page.on("pageerror", (e) => consoleErrors.push(String(e)));
// Every publish request and its answer, printed when a check fails: a double
// publish shows whether the browser sent two keys or the server made two jobs.
const publishes = [];
page.on("request", (r) => {
  if (r.method() === "POST" && r.url().endsWith("/api/v1/posts")) {
    publishes.push(`${new Date().toISOString()} POST key=${r.headers()["idempotency-key"]} body=${r.postData()}`);
  }
});
page.on("response", async (r) => {
  if (r.request().method() === "POST" && r.url().endsWith("/api/v1/posts")) {
    const replayed = r.headers()["idempotent-replayed"] ?? "no";
    publishes.push(`${new Date().toISOString()} ${r.status()} replayed=${replayed} ${await r.text().catch(() => "")}`);
  }
});

// Say exactly what the Content-Security-Policy blocked, should it block anything.
await page.addInitScript(() =>
  document.addEventListener("securitypolicyviolation", (e) =>
    console.error(`CSP blocked ${e.blockedURI} (${e.violatedDirective}) at ${e.sourceFile}:${e.lineNumber}`),
  ),
);

// An 8×8 red PNG, attached to a post below.
const RED_SQUARE_PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR4nGM4EaCBFTEMLQkAaplQAc/OcKAAAAAASUVORK5CYII=";
const files = mkdtempSync(join(tmpdir(), "prasaran-e2e-"));
const redSquare = join(files, "red-square.png");
writeFileSync(redSquare, Buffer.from(RED_SQUARE_PNG, "base64"));

let step = 0;
async function shot(name) {
  step += 1;
  const file = `${out}/${String(step).padStart(2, "0")}-${name}.png`;
  await page.screenshot({ path: file, fullPage: true });
  console.log(`  screenshot ${file}`);
}
function check(condition, message) {
  if (!condition) {
    console.log(`publish requests so far:\n  ${publishes.join("\n  ")}`);
    throw new Error(`check failed: ${message}`);
  }
}
// The dev server keeps every mail it sends at /dev/outbox (newest first, links
// as <a href>): follow the newest link whose address contains `part`.
async function openMailLink(part) {
  await page.goto(`${base}/dev/outbox`);
  const link = page.locator(`a[href*="${part}"]`).first();
  await link.waitFor();
  const href = await link.getAttribute("href");
  const target = new URL(href, page.url());
  check(target.origin === new URL(base).origin, `the mail's link leads to this server, not ${href}`);
  await link.click();
  await page.waitForURL((url) => url.pathname === target.pathname);
}
/** A time as the browser's clock shows it, `2026-03-04T10:30` (Chromium runs in this process's zone). */
function wallTime(iso) {
  const at = new Date(iso);
  return new Date(at.getTime() - at.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}
/** The day after `2026-03-04`. */
function nextDayOf(day) {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}
/** A job as the API has it, asked by the page (its session cookie). */
async function jobFromApi(id) {
  return page.evaluate((job) => fetch(`/api/v1/jobs/${job}`).then((r) => r.json()), id);
}
async function faults(body) {
  const response = await fetch(new URL("/_sandbox/faults", sandbox), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  check(response.ok, `sandbox faults ${response.status}`);
}

try {
  console.log("the landing page says what Prasaran does; sign up from it");
  await page.goto(`${base}/`);
  await page.getByRole("heading", { level: 1, name: /^Write once/ }).waitFor();
  check(page.url() === `${base}/`, `a visitor stays on the landing page, not ${page.url()}`);
  await shot("landing");
  await page.getByRole("link", { name: "Sign up" }).first().click();
  await page.waitForURL("**/signup");
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.getByText("Enter your email address.").waitFor();
  await shot("signup-errors");
  await page.getByLabel("Email").fill("ada@example.com");
  await page.getByLabel("Password").fill("correct horse battery staple");
  await page.getByRole("button", { name: "Sign up" }).click();

  console.log("verify the email address with the link from the dev outbox");
  await page.getByRole("heading", { name: "Your platforms" }).waitFor();
  const banner = page.getByRole("region", { name: "Email verification" });
  await banner.getByText("we sent a link to ada@example.com").waitFor();
  check(await banner.getByRole("button", { name: "Send the link again" }).isVisible(), "the banner offers to resend");
  await shot("dashboard-unverified");
  await openMailLink("/verify-email?token=");
  await page.getByRole("heading", { name: "Your email address is verified" }).waitFor();
  await shot("email-verified");
  await page.getByRole("link", { name: "Go to your dashboard" }).click();

  console.log("dashboard, connect Manch through its consent page");
  await page.getByRole("heading", { name: "Your platforms" }).waitFor();
  check((await banner.count()) === 0, "the verification banner is gone once the address is verified");
  // Manch's card (Mastodon's, the dev instance beside the app, comes last).
  const manchCard = page.getByTestId("platform-manch");
  await manchCard.getByText("Not connected").waitFor();
  await shot("dashboard-empty");
  await page.getByRole("button", { name: "Connect Manch" }).click();
  await page.getByRole("button", { name: "Approve" }).waitFor();
  await page.locator("#handle").fill("ada");
  await shot("manch-consent");
  await page.getByRole("button", { name: "Approve" }).click();
  await page.getByText("Your Manch account is connected").waitFor();
  await page.getByText("@ada").waitFor();
  check(await manchCard.getByText("Active", { exact: true }).isVisible(), "Manch shows Active");
  await shot("dashboard-connected");

  console.log("compose and publish, watch it land");
  await page.getByRole("link", { name: "Compose" }).click();
  await page.getByLabel("Post", { exact: true }).fill("x".repeat(501));
  const counter = page.getByTestId("counter-manch");
  await counter.getByText("501 / 500").waitFor();
  check((await counter.getAttribute("class")).includes("text-red-600"), "the counter turns red over the limit");
  check(await page.getByRole("button", { name: "Publish now" }).isDisabled(), "publishing is disabled over the limit");
  await shot("composer-over-limit");
  await page.getByLabel("Post", { exact: true }).fill("Hello from the browser test");
  await page.getByTestId("counter-manch").getByText("27 / 500").waitFor();
  await shot("composer");
  await page.getByRole("button", { name: "Publish now" }).dblclick();
  await page.waitForURL("**/jobs/*");
  await page.getByTestId("job-status").getByText("Published").waitFor();
  const link = page.getByRole("link", { name: "View the post" });
  check((await link.getAttribute("href"))?.includes("/posts/"), "a link to the published post");
  await shot("job-succeeded");

  console.log("history shows it, once (the double click published once)");
  await page.getByRole("link", { name: "History", exact: true }).click();
  // Counted in the history list itself, once it has loaded (the job page
  // shows the same text until the route changes).
  await page.waitForURL("**/history");
  const listed = page.getByRole("list", { name: "Posts" }).getByRole("listitem");
  const hello = listed.filter({ hasText: "Hello from the browser test" });
  await hello.first().waitFor();
  const inHistory = await hello.count();
  if (inHistory !== 1) {
    console.log(`history as the API answers it: ${await page.evaluate(() => fetch("/api/v1/posts").then((r) => r.text()))}`);
  }
  check(inHistory === 1, `one post in history, found ${inHistory}`);
  const posted = await (await fetch(new URL("/_sandbox/posts", sandbox))).json();
  check(posted.posts.length === 1, `one post at Manch, found ${posted.posts.length}`);
  await shot("history");

  console.log("a failing target shows its error; Retry works once the fault is cleared");
  await faults({ error_rate: 1.0 });
  await page.getByRole("link", { name: "Compose" }).click();
  await page.getByLabel("Post", { exact: true }).fill("This one meets a broken platform");
  await page.getByRole("button", { name: "Publish now" }).click();
  await page.getByTestId("job-status").getByText("Failed").waitFor({ timeout: 60_000 });
  await page.getByText("The platform was briefly unavailable.").waitFor();
  await page.getByText(/^The platform said: /).waitFor();
  await shot("job-failed");
  await faults({ error_rate: 0 });
  await page.getByRole("button", { name: "Retry failed targets" }).click();
  await page.getByTestId("job-status").getByText("Published").waitFor({ timeout: 60_000 });
  await shot("job-retried");

  console.log("schedule a post for later, then cancel it from history");
  await page.getByRole("link", { name: "Compose" }).click();
  await page.getByLabel("Post", { exact: true }).fill("A post for tomorrow");
  await page.getByLabel("Schedule").check();
  const tomorrow = new Date(Date.now() + 86_400_000);
  const local = new Date(tomorrow.getTime() - tomorrow.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  await page.locator("#scheduledAt").fill(local);
  await shot("composer-schedule");
  await page.getByRole("button", { name: "Schedule" }).click();
  // A scheduled post that has not started shows its time as its status.
  await page.getByTestId("job-status").getByText(/^Scheduled for /).waitFor();

  console.log("calendar: the scheduled post is on its day; reschedule it from the keyboard");
  const mainMenu = page.getByRole("navigation", { name: "Main" });
  await mainMenu.getByRole("link", { name: "Calendar" }).click();
  await page.waitForURL("**/calendar");
  await page.getByText(/^Times in /).waitFor();
  // Tomorrow may lie past this month's grid (today the last day of a month ending on a Sunday).
  const tomorrowDay = local.slice(0, 10);
  await page.goto(`${base}/calendar?view=month&date=${tomorrowDay}`);
  const onCalendar = page.getByTestId(`day-${tomorrowDay}`).getByTestId("calendar-post").filter({ hasText: "A post for tomorrow" });
  await onCalendar.waitFor();
  await onCalendar.getByText(local.slice(11), { exact: true }).waitFor();
  await shot("calendar-month");
  await onCalendar.getByRole("button", { name: "Reschedule" }).focus();
  await page.keyboard.press("Enter");
  const rescheduleForm = page.getByRole("dialog", { name: "Reschedule" });
  const newTimeField = rescheduleForm.getByLabel(/^New date and time/);
  await newTimeField.waitFor();
  check((await newTimeField.inputValue()) === local, `the form starts at the post's time, got ${await newTimeField.inputValue()}`);
  // Any time on tomorrow's date is still ahead; one the post does not already have.
  const newTime = local.slice(11) === "07:07" ? "08:08" : "07:07";
  await newTimeField.fill(`${tomorrowDay}T${newTime}`);
  await shot("calendar-reschedule-form");
  await rescheduleForm.getByRole("button", { name: "Save" }).focus();
  await page.keyboard.press("Enter");
  await rescheduleForm.waitFor({ state: "detached" });
  await page.getByText(/^Rescheduled to /).waitFor();
  await page.getByTestId(`day-${tomorrowDay}`).getByTestId("calendar-post").filter({ hasText: "A post for tomorrow" }).getByText(newTime, { exact: true }).waitFor();
  const pending = await page.evaluate(() => fetch("/api/v1/posts?status=pending&order=time&limit=100").then((r) => r.json()));
  const moved = pending.posts.find((p) => p.content === "A post for tomorrow");
  check(
    moved && new Date(moved.scheduled_at).getTime() === new Date(`${tomorrowDay}T${newTime}`).getTime(),
    `the server has the new time, got ${moved?.scheduled_at}`,
  );
  await shot("calendar-rescheduled");
  await page.getByRole("button", { name: "Week", exact: true }).click();
  await page.getByTestId("calendar-post").filter({ hasText: "A post for tomorrow" }).waitFor();
  await shot("calendar-week");

  console.log("save a draft from the composer; Drafts lists it");
  await mainMenu.getByRole("link", { name: "Compose" }).click();
  await page.waitForURL("**/compose");
  await page.getByLabel("Post", { exact: true }).fill("A draft to finish later");
  await page.getByRole("button", { name: "Save draft" }).click();
  await page.getByText("Draft saved.").waitFor();
  await shot("composer-draft-saved");
  // Afresh: the posts composed below are new posts, not this draft.
  await page.getByRole("button", { name: "Clear", exact: true }).click();
  await mainMenu.getByRole("link", { name: "Drafts" }).click();
  await page.waitForURL("**/drafts");
  const listedDraft = page.getByTestId("draft").filter({ hasText: "A draft to finish later" });
  await listedDraft.waitFor();
  check((await listedDraft.count()) === 1, `one saved draft listed, found ${await listedDraft.count()}`);
  check(await listedDraft.getByRole("link", { name: "Open" }).isVisible(), "the draft can be opened");
  await shot("drafts");
  await page.setViewportSize({ width: 390, height: 844 });
  await shot("drafts-phone");
  await page.setViewportSize({ width: 1280, height: 900 });

  await page.getByRole("link", { name: "History", exact: true }).click();
  await page.getByRole("button", { name: "Cancel" }).click();
  // Asked first; the answer is a notice, not an error.
  await page.getByRole("alertdialog", { name: "Cancel this scheduled post?" }).getByRole("button", { name: "Yes, cancel" }).click();
  await page.getByText("Done: this post will not be published.").waitFor();
  // In the list (the status filter offers "Cancelled" too).
  await page.getByRole("list", { name: "Posts" }).getByText("Cancelled", { exact: true }).waitFor();
  await shot("history-cancelled");

  console.log("open the saved draft, change its text, give it a time and schedule it: it leaves Drafts");
  // A day whose next day is in the same month, so that one month view shows both (for the drag below).
  const draftDay = nextDayOf(tomorrowDay).slice(0, 7) === tomorrowDay.slice(0, 7) ? tomorrowDay : nextDayOf(tomorrowDay);
  const dropDay = nextDayOf(draftDay);
  const draftWhen = `${draftDay}T10:30`;
  await mainMenu.getByRole("link", { name: "Drafts" }).click();
  await page.waitForURL("**/drafts");
  await page.getByTestId("draft").filter({ hasText: "A draft to finish later" }).getByRole("link", { name: "Open" }).click();
  await page.waitForURL((url) => url.pathname === "/compose" && url.searchParams.has("draft"));
  await page.getByRole("heading", { name: "Edit draft" }).waitFor();
  const draftText = page.getByLabel("Post", { exact: true });
  check((await draftText.inputValue()) === "A draft to finish later", `the draft opens with its text, got "${await draftText.inputValue()}"`);
  await draftText.fill("A draft, finished and scheduled");
  await page.getByLabel("Schedule").check();
  await page.locator("#scheduledAt").fill(draftWhen);
  await shot("composer-draft-schedule");
  await page.getByRole("button", { name: "Schedule" }).click();
  await page.waitForURL("**/jobs/*");
  await page.getByTestId("job-status").getByText(/^Scheduled for /).waitFor();
  const draftJobId = new URL(page.url()).pathname.split("/").pop();
  const scheduledDraft = await jobFromApi(draftJobId);
  check(scheduledDraft.content === "A draft, finished and scheduled", `the edited text was scheduled, got "${scheduledDraft.content}"`);
  check(wallTime(scheduledDraft.scheduled_at) === draftWhen, `scheduled for ${draftWhen}, got ${scheduledDraft.scheduled_at}`);
  await mainMenu.getByRole("link", { name: "Drafts" }).click();
  await page.waitForURL("**/drafts");
  await page.getByText("No drafts", { exact: true }).waitFor();
  check((await page.getByTestId("draft").count()) === 0, "the scheduled draft is no longer a draft");

  console.log("calendar: drag the scheduled post to the next day; it keeps its time of day");
  await page.goto(`${base}/calendar?view=month&date=${draftDay}`);
  const toDrag = page.getByTestId(`day-${draftDay}`).getByTestId("calendar-post").filter({ hasText: "A draft, finished and scheduled" });
  await toDrag.waitFor();
  // Held by its time line: neither its link nor its Reschedule button.
  await toDrag.dragTo(page.getByTestId(`day-${dropDay}`), { sourcePosition: { x: 10, y: 6 } });
  await page.getByText(/^Rescheduled to /).waitFor();
  await page.getByTestId(`day-${dropDay}`).getByTestId("calendar-post").filter({ hasText: "A draft, finished and scheduled" }).waitFor();
  const dragged = await jobFromApi(draftJobId);
  check(
    wallTime(dragged.scheduled_at) === `${dropDay}T10:30`,
    `dragged one day on at the same time (${dropDay}T10:30), the server has ${dragged.scheduled_at}`,
  );
  await shot("calendar-dragged");

  console.log("edit the scheduled post from its page");
  await page.goto(`${base}/jobs/${draftJobId}`);
  await page.getByTestId("job-status").getByText(/^Scheduled for /).waitFor();
  await page.getByRole("link", { name: "Edit", exact: true }).click();
  await page.waitForURL((url) => url.pathname === "/compose" && url.searchParams.get("job") === draftJobId);
  await page.getByRole("heading", { name: "Edit post" }).waitFor();
  const editText = page.getByLabel("Post", { exact: true });
  check((await editText.inputValue()) === "A draft, finished and scheduled", `the post opens with its text, got "${await editText.inputValue()}"`);
  await editText.fill("A scheduled post, edited");
  await shot("composer-edit");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.waitForURL("**/jobs/*");
  await page.getByText("A scheduled post, edited", { exact: true }).waitFor();
  const edited = await jobFromApi(new URL(page.url()).pathname.split("/").pop());
  check(edited.content === "A scheduled post, edited", `the server has the new text, got "${edited.content}"`);
  check(wallTime(edited.scheduled_at) === `${dropDay}T10:30`, `editing the text kept the time, got ${edited.scheduled_at}`);
  await shot("job-edited");

  console.log("queue, and the queue and calendar at phone width");
  await mainMenu.getByRole("link", { name: "Queue" }).click();
  await page.waitForURL("**/queue");
  await page.getByTestId("queue-post").filter({ hasText: "A scheduled post, edited" }).waitFor();
  await shot("queue");
  await page.setViewportSize({ width: 390, height: 844 });
  await shot("queue-phone");
  await page.goto(`${base}/calendar?view=month&date=${dropDay}`);
  await page.getByTestId(`day-${dropDay}`).getByTestId("calendar-post").filter({ hasText: "A scheduled post, edited" }).waitFor();
  await shot("calendar-phone");
  await page.setViewportSize({ width: 1280, height: 900 });

  console.log("API docs render from the served document");
  await page.getByRole("link", { name: "API docs" }).click();
  await page.locator(".swagger-ui .info").waitFor();
  await page.getByText("/api/v1/posts").first().waitFor();
  await shot("api-docs");

  console.log("phone width: the menu folds behind a button");
  await page.setViewportSize({ width: 390, height: 844 });
  const menuButton = page.getByRole("button", { name: "Menu" });
  check(!(await page.getByRole("link", { name: "Compose" }).isVisible()), "the menu is folded on a phone");
  // The name, the avatar, Log out and Menu share one row.
  const middle = (box) => box.y + box.height / 2;
  const brand = await page.locator("header").first().getByText("Prasaran", { exact: true }).boundingBox();
  for (const name of ["Log out", "Menu"]) {
    const box = await page.getByRole("button", { name }).boundingBox();
    check(Math.abs(middle(box) - middle(brand)) < 8, `the header is one row on a phone: ${name} is at ${box.y}, the name at ${brand.y}`);
  }
  await menuButton.click();
  check((await menuButton.getAttribute("aria-expanded")) === "true", "the Menu button says the menu is open");
  await shot("header-phone-menu");
  await page.getByRole("link", { name: "Compose" }).click();
  await page.getByLabel("Post", { exact: true }).waitFor();
  check((await menuButton.getAttribute("aria-expanded")) === "false", "the menu folds again once a page is picked");
  await shot("composer-phone");
  await page.setViewportSize({ width: 1280, height: 900 });

  console.log("log out, log in again");
  await page.getByRole("button", { name: "Log out" }).click();
  await page.waitForURL("**/login");
  await shot("login");
  await page.getByLabel("Email").fill("ada@example.com");
  await page.getByLabel("Password").fill("correct horse battery staple");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Your platforms" }).waitFor();

  console.log("a page opened while logged out opens once logged in");
  await page.getByRole("button", { name: "Log out" }).click();
  await page.waitForURL("**/login");
  await page.goto(`${base}/queue`);
  await page.waitForURL("**/login");
  await page.getByRole("heading", { name: "Log in" }).waitFor();
  await page.getByLabel("Email").fill("ada@example.com");
  await page.getByLabel("Password").fill("correct horse battery staple");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL("**/queue");
  await page.getByRole("heading", { name: "Queue" }).waitFor();

  // Right after a login: older ones must give the password again to make a token.
  console.log("settings: the address is verified; an API token with the default scopes, listed, then revoked");
  await page.getByRole("link", { name: "Settings" }).click();
  await page.getByRole("region", { name: "Account" }).getByText("Verified", { exact: true }).waitFor();
  await page.getByLabel("Token name").fill("browser test");
  for (const scope of ["posts:write", "posts:read", "connections"]) {
    check(await page.getByLabel(scope, { exact: true }).isChecked(), `${scope} is ticked by default`);
  }
  check(!(await page.getByLabel("tokens", { exact: true }).isChecked()), "the tokens scope is not ticked by default");
  check((await page.getByLabel("Expires").inputValue()) === "90", "tokens expire in 90 days by default");
  await page.getByRole("button", { name: "Create token" }).click();
  const secret = page.getByLabel("Your new token");
  await secret.waitFor();
  check((await secret.inputValue()).length > 20, "the new token's secret is shown");
  const tokenRow = page.getByRole("list", { name: "API tokens" }).getByRole("listitem").filter({ hasText: "browser test" });
  await tokenRow.waitFor();
  const tokenText = await tokenRow.innerText();
  check(
    ["posts:write", "posts:read", "connections"].every((scope) => tokenText.includes(scope)),
    `the token's scopes are listed: ${tokenText}`,
  );
  check(tokenText.includes("expires ") && !tokenText.includes("never expires"), `the token's expiry is listed: ${tokenText}`);
  await shot("settings-token");
  await tokenRow.getByRole("button", { name: "Revoke" }).click();
  await tokenRow.getByRole("button", { name: "Yes, revoke" }).click();
  await tokenRow.waitFor({ state: "detached" });
  check((await secret.count()) === 0, "the revoked token's secret is no longer shown");

  console.log("attach an image with alt text, publish, Manch gets both");
  await page.getByRole("link", { name: "Compose" }).click();
  // Settings' scope checkboxes ("posts:write") may still be on screen for a moment.
  await page.waitForURL("**/compose");
  await page.getByLabel("Post", { exact: true }).fill("A post with a picture");
  await page.getByLabel("Add images or video").setInputFiles(redSquare);
  const attachment = page.getByTestId("attachment");
  const alt = attachment.getByLabel("Alt text for red-square.png");
  await alt.waitFor();
  await attachment.locator("img").waitFor();
  check(
    // decode() waits for the image to load; it rejects for a broken one.
    await attachment.locator("img").evaluate((img) => img.decode().then(() => img.naturalWidth > 0, () => false)),
    "the attachment shows its thumbnail",
  );
  await alt.fill("A small red square");
  check((await page.getByTestId("media-note-manch").count()) === 0, "no media note for one image on Manch");
  await shot("composer-attachment");
  await page.getByRole("button", { name: "Publish now" }).click();
  await page.waitForURL("**/jobs/*");
  await page.getByTestId("job-status").getByText("Published").waitFor();
  await shot("job-with-media");
  const atManch = await (await fetch(new URL("/_sandbox/posts", sandbox))).json();
  const pictured = atManch.posts.filter((p) => p.text === "A post with a picture");
  check(pictured.length === 1, `one post with the picture at Manch, found ${pictured.length}`);
  check(pictured[0].media.length === 1, `one medium on it, found ${pictured[0].media.length}`);
  const [medium] = pictured[0].media;
  check(medium.mime === "image/png", `the medium is a PNG, not ${medium.mime}`);
  check(medium.alt_text === "A small red square", `the alt text reached Manch, got "${medium.alt_text}"`);

  console.log("connect Mastodon by naming the instance, publish there too");
  await page.getByRole("link", { name: "Dashboard" }).click();
  await page.getByRole("button", { name: "Connect Mastodon" }).click();
  const instanceField = page.getByLabel("Your instance");
  check((await instanceField.inputValue()) === mastodon, `the dev instance is offered, got "${await instanceField.inputValue()}"`);
  await shot("mastodon-instance");
  await page.getByRole("button", { name: /^Continue/ }).click();
  await page.getByRole("button", { name: "Approve" }).waitFor();
  await page.locator("#handle").fill("ada");
  await page.getByRole("button", { name: "Approve" }).click();
  await page.getByText("Your Mastodon account is connected").waitFor();
  await shot("dashboard-mastodon");
  await page.getByRole("link", { name: "Compose" }).click();
  await page.getByLabel("Post", { exact: true }).fill("Hello, fediverse https://example.com/" + "x".repeat(300));
  // The instance counts any link as 23 characters: 17 + 23.
  await page.getByTestId(/^counter-mastodon/).getByText("40 / 500").waitFor();
  await shot("composer-mastodon");
  await page.getByRole("button", { name: "Publish now" }).click();
  await page.waitForURL("**/jobs/*");
  await page.getByTestId("job-status").getByText("Published").waitFor({ timeout: 60_000 });
  const atMastodon = await (await fetch(new URL("/_sandbox/posts", mastodon))).json();
  check(atMastodon.posts.length === 1, `one status at the Mastodon instance, found ${atMastodon.posts.length}`);

  console.log("one post, and its own text for the Mastodon account: each target gets its text");
  await page.getByRole("link", { name: "Compose" }).click();
  await page.waitForURL("**/compose");
  const mainText = "One post for everyone";
  const ownText = "One post for everyone, and this one for the fediverse";
  await page.getByLabel("Post", { exact: true }).fill(mainText);
  await page.getByRole("tab", { name: /^Mastodon @/ }).click();
  await page.getByLabel(/^Post for Mastodon @/).fill(ownText);
  await page.getByRole("tab", { name: /^Mastodon @.* own text$/ }).waitFor();
  await shot("composer-variation");
  await page.getByRole("button", { name: "Publish now" }).click();
  await page.waitForURL("**/jobs/*");
  await page.getByTestId("job-status").getByText("Published").waitFor({ timeout: 60_000 });
  await page.getByText(mainText, { exact: true }).waitFor();
  const targets = page.getByTestId("task");
  const mastodonTarget = targets.filter({ hasText: /^Mastodon @/ });
  const manchTarget = targets.filter({ hasText: /^Manch @/ });
  check((await targets.count()) === 2, `two targets, found ${await targets.count()}`);
  const shownOwn = await mastodonTarget.getByTestId("task-own-text").innerText();
  check(shownOwn.includes(ownText), `the Mastodon target shows its own text, got "${shownOwn}"`);
  check((await manchTarget.getByTestId("task-own-text").count()) === 0, "the Manch target has the post's text, no text of its own");
  await shot("job-variation");
  const manchPosts = (await (await fetch(new URL("/_sandbox/posts", sandbox))).json()).posts;
  check(manchPosts.some((p) => p.text === mainText), `Manch got the post's text "${mainText}"`);
  const mastodonPosts = (await (await fetch(new URL("/_sandbox/posts", mastodon))).json()).posts;
  check(mastodonPosts.some((p) => p.text === ownText), `Mastodon got its own text "${ownText}"`);

  console.log("forgot the password: reset it with the emailed link, log in with the new one");
  await page.getByRole("button", { name: "Log out" }).click();
  await page.waitForURL("**/login");
  await page.getByRole("link", { name: "Forgot password?" }).click();
  await page.waitForURL("**/forgot-password");
  // The login form's own Email field may still be on the page for a moment.
  await page.getByRole("heading", { name: "Reset your password" }).waitFor();
  await page.getByLabel("Email").fill("ada@example.com");
  await page.getByRole("button", { name: "Send reset link" }).click();
  await page.getByRole("heading", { name: "Check your email" }).waitFor();
  await shot("forgot-password-sent");
  await openMailLink("/reset-password?token=");
  await page.getByRole("heading", { name: "Choose a new password" }).waitFor();
  const newPassword = "a different long passphrase 42";
  await page.getByLabel("New password", { exact: true }).fill(newPassword);
  await page.getByLabel("Confirm new password", { exact: true }).fill(newPassword);
  await shot("reset-password");
  await page.getByRole("button", { name: "Set new password" }).click();
  await page.waitForURL("**/login");
  await page.getByText("Your password was changed; every other session was signed out.").waitFor();
  await shot("login-after-reset");
  // The old password no longer works (its 401 is no console error, see below).
  await page.getByLabel("Email").fill("ada@example.com");
  await page.getByLabel("Password").fill("correct horse battery staple");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("alert").waitFor();
  await page.getByLabel("Password").fill(newPassword);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Your platforms" }).waitFor();
  await page.getByTestId("platform-manch").getByText("Active", { exact: true }).waitFor();
  await shot("dashboard-new-password");

  await page.getByRole("button", { name: "Log out" }).click();
  await page.waitForURL("**/login");

  console.log("the landing page at phone width");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/`);
  await page.getByRole("heading", { level: 1, name: /^Write once/ }).waitFor();
  await shot("landing-phone");

  const serious = consoleErrors.filter((e) => !e.includes("401"));
  check(serious.length === 0, `no console errors: ${serious.join(" | ")}`);
  console.log("browser end-to-end: all steps passed");
} catch (error) {
  await shot("failure").catch(() => {});
  console.error(error);
  process.exitCode = 1;
} finally {
  await browser.close();
  rmSync(files, { recursive: true, force: true });
}
