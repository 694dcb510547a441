// The composer beyond a new post: saving drafts on the server, opening one,
// editing a scheduled post, own text per account, and Ctrl+Enter.
import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setCsrfToken } from "../api/client";
import { FakeEventSource } from "../test-events";
import { apiError, callsTo, fakeServer, json, renderApp, type Answer } from "../test-fetch";
import { mediaView } from "../test-xhr";
import { localInputValue } from "../lib/zoned";
import { browserTimeZone } from "../lib/schemas";

const J1 = "5f0c6a0e-4d1b-4b7e-9a3c-0b6a8f1d2e3c";
const P1 = "7a1b2c3d-4d1b-4b7e-9a3c-0b6a8f1d2e3c";
const D1 = "9d9d9d9d-4d1b-4b7e-9a3c-0b6a8f1d2e3c";
const ada = { id: "u1", email: "ada@example.com", role: "user", email_verified: true };
const KEY = "prasaran:compose-draft:u1";

const mediaRules = {
  max_count: 4,
  max_image_bytes: 8 * 1024 * 1024,
  max_video_bytes: 200 * 1024 * 1024,
  types: ["image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4"],
  video_alone: true,
  alt_text_required: false,
};
const account = (id: string, platform: string, handle: string) => ({
  id,
  platform,
  handle,
  display_name: handle,
  status: "active",
});
/** Manch (500 characters) and Mastodon (20, links at 23), one account each. */
const platforms = {
  platforms: [
    {
      id: "manch",
      name: "Manch",
      rules: { max_chars: 500, media: mediaRules },
      state: "active",
      connections: [account("c1", "manch", "ada")],
    },
    {
      id: "mastodon",
      name: "Mastodon",
      asks_for_server: true,
      rules: { max_chars: 20, unit: "graphemes", url_weight: 23, media: mediaRules },
      state: "active",
      connections: [account("m1", "mastodon", "hal@fosstodon.org")],
    },
  ],
};

const savedDraft = (fields: Record<string, unknown> = {}) => ({
  id: D1,
  status: "draft",
  content: "half a thought",
  connection_ids: null,
  media_ids: [],
  scheduled_at: null,
  time_zone: null,
  options: {},
  variations: [],
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  ...fields,
});

const task = (fields: Record<string, unknown>) => ({
  id: "t1",
  connection_id: "c1",
  platform: "manch",
  handle: "ada",
  status: "queued",
  attempts: 0,
  next_attempt_at: null,
  last_error: null,
  last_error_kind: null,
  external_url: null,
  completed_at: null,
  ...fields,
});

const scheduledJob = {
  job_id: J1,
  post_id: P1,
  status: "pending",
  content: "see you tomorrow",
  scheduled_at: "2999-03-04T09:30:00Z",
  time_zone: "UTC",
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  completed_at: null,
  tasks: [task({}), task({ id: "t2", connection_id: "m1", platform: "mastodon", handle: "hal@fosstodon.org" })],
  media_ids: [],
  options: { visibility: "unlisted" },
  variations: [{ connection_id: "m1", content: "see you" }],
  editable: true,
};

function signedIn(answers: Record<string, Answer> = {}) {
  vi.stubGlobal("EventSource", FakeEventSource);
  return fakeServer({
    "GET /api/v1/me": () => json({ user: ada, csrf_token: "csrf-1" }),
    "GET /api/v1/platforms": () => json(platforms),
    "POST /api/v1/posts": () => json({ post_id: P1, job_id: J1 }, 202),
    ...answers,
  });
}

const nonGets = (calls: ReturnType<typeof fakeServer>) =>
  calls.filter((c) => c.method !== "GET").map((c) => `${c.method} ${c.url}`);

afterEach(() => {
  // Unmounted while the stand-ins are still there (the job page opens its stream as it mounts).
  cleanup();
  vi.unstubAllGlobals();
  setCsrfToken(null);
  localStorage.clear();
  FakeEventSource.opened = [];
});

describe("Save draft", () => {
  it("saves the post as a server draft, keeps the local one, updates it next time, and publishes it", async () => {
    const calls = signedIn({
      "POST /api/v1/drafts": (body) => json(savedDraft(body as Record<string, unknown>), 201),
      [`PATCH /api/v1/drafts/${D1}`]: (body) => json(savedDraft(body as Record<string, unknown>)),
      [`POST /api/v1/drafts/${D1}/publish`]: () => json({ post_id: P1, job_id: J1, status_url: `/api/v1/jobs/${J1}` }, 202),
    });
    renderApp("/compose");
    const post = await screen.findByLabelText("Post");
    await waitFor(() => expect(screen.getByRole("checkbox", { name: "Manch @ada" })).toBeChecked());
    fireEvent.change(post, { target: { value: "half a thought" } });
    fireEvent.click(screen.getByRole("button", { name: "Save draft" }));
    expect(await screen.findByText("Draft saved.")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "See all drafts" })).toHaveAttribute("href", "/drafts");
    const created = callsTo(calls, "POST", "/api/v1/drafts");
    expect(created).toHaveLength(1);
    expect(created[0].body).toMatchObject({
      content: "half a thought",
      connection_ids: ["c1", "m1"],
      media_ids: [],
      scheduled_at: null,
      time_zone: browserTimeZone(),
      variations: [],
    });
    expect(created[0].headers.get("X-CSRF-Token")).toBe("csrf-1");
    // The local draft stays, and knows its server draft.
    expect(screen.getByTestId("draft-hint")).toHaveTextContent("Draft kept on this device.");
    expect(JSON.parse(localStorage.getItem(KEY)!)).toMatchObject({ content: "half a thought", serverDraftId: D1 });

    fireEvent.change(post, { target: { value: "a whole thought" } });
    fireEvent.click(screen.getByRole("button", { name: "Save draft" }));
    await waitFor(() => expect(callsTo(calls, "PATCH", `/api/v1/drafts/${D1}`)).toHaveLength(1));
    expect(callsTo(calls, "PATCH", `/api/v1/drafts/${D1}`)[0].body).toMatchObject({ content: "a whole thought" });
    expect(callsTo(calls, "POST", "/api/v1/drafts")).toHaveLength(1);

    // Publishing it: the latest text is saved into the draft, then the draft is published.
    fireEvent.change(post, { target: { value: "the final thought" } });
    fireEvent.click(screen.getByRole("button", { name: "Publish now" }));
    expect(await screen.findByText("Loading the publish…")).toBeInTheDocument();
    expect(nonGets(calls)).toEqual([
      "POST /api/v1/drafts",
      `PATCH /api/v1/drafts/${D1}`,
      `PATCH /api/v1/drafts/${D1}`,
      `POST /api/v1/drafts/${D1}/publish`,
    ]);
    expect(callsTo(calls, "PATCH", `/api/v1/drafts/${D1}`)[1].body).toMatchObject({ content: "the final thought" });
    expect(localStorage.getItem(KEY)).toBeNull();
  });

  it("shows the server's refusal and keeps the post", async () => {
    signedIn({ "POST /api/v1/drafts": () => apiError(429, "quota_exceeded", "You have 200 drafts already.") });
    renderApp("/compose");
    fireEvent.change(await screen.findByLabelText("Post"), { target: { value: "one more" } });
    fireEvent.click(screen.getByRole("button", { name: "Save draft" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("You have 200 drafts already.");
    expect(screen.queryByText("Draft saved.")).not.toBeInTheDocument();
    expect(screen.getByLabelText("Post")).toHaveValue("one more");
  });
});

describe("a saved draft in the composer", () => {
  it("opens with its text, accounts, time, own texts and attachments, and publishes its latest state", async () => {
    const at = "2999-05-06T07:08:00Z";
    const calls = signedIn({
      [`GET /api/v1/drafts/${D1}`]: () =>
        json(
          savedDraft({
            connection_ids: ["m1"],
            scheduled_at: at,
            time_zone: "UTC",
            media_ids: ["md1"],
            variations: [{ connection_id: "m1", content: "short one" }],
            options: { content_warning: "food" },
          }),
        ),
      "GET /api/v1/media/md1": () => json(mediaView("md1", { alt_text: "a red square" })),
      [`PATCH /api/v1/drafts/${D1}`]: (body) => json(savedDraft(body as Record<string, unknown>)),
      [`POST /api/v1/drafts/${D1}/publish`]: () => json({ post_id: P1, job_id: J1 }, 202),
    });
    localStorage.setItem(KEY, JSON.stringify({ content: "someone else's words", connectionIds: [], when: "now" }));
    renderApp(`/compose?draft=${D1}`);
    expect(await screen.findByRole("heading", { name: "Edit draft" })).toBeInTheDocument();
    expect(screen.getByLabelText("Post")).toHaveValue("half a thought");
    expect(screen.getByRole("checkbox", { name: "Mastodon @hal@fosstodon.org" })).toBeChecked();
    expect(screen.getByRole("checkbox", { name: "Manch @ada" })).not.toBeChecked();
    expect(screen.getByLabelText("Schedule")).toBeChecked();
    expect(screen.getByLabelText(/^Date and time/)).toHaveValue(localInputValue(at, browserTimeZone()));
    expect(screen.getByLabelText("Content warning")).toHaveValue("food");
    expect(screen.getByLabelText("Alt text for Image 1")).toHaveValue("a red square");
    expect(screen.getByRole("tab", { name: /Mastodon @hal@fosstodon.org · own text/ })).toBeInTheDocument();
    // The local draft of a new post is left alone.
    expect(screen.queryByTestId("draft-hint")).not.toBeInTheDocument();

    fireEvent.click(screen.getByRole("button", { name: "Schedule" }));
    await waitFor(() => expect(callsTo(calls, "POST", `/api/v1/drafts/${D1}/publish`)).toHaveLength(1));
    expect(nonGets(calls)).toEqual([`PATCH /api/v1/drafts/${D1}`, `POST /api/v1/drafts/${D1}/publish`]);
    const saved = callsTo(calls, "PATCH", `/api/v1/drafts/${D1}`)[0].body as Record<string, unknown>;
    expect(saved).toMatchObject({
      content: "half a thought",
      connection_ids: ["m1"],
      media_ids: ["md1"],
      variations: [{ connection_id: "m1", content: "short one" }],
      options: { content_warning: "food" },
    });
    expect(new Date(saved.scheduled_at as string).toISOString()).toBe(new Date(at).toISOString());
    expect(callsTo(calls, "POST", "/api/v1/posts")).toHaveLength(0);
    expect(JSON.parse(localStorage.getItem(KEY)!)).toMatchObject({ content: "someone else's words" });
  });

  it("keeps a draft's stored attachment when it is removed here, and shows one that cannot be read", async () => {
    const calls = signedIn({
      [`GET /api/v1/drafts/${D1}`]: () => json(savedDraft({ media_ids: ["md1", "gone"] })),
      "GET /api/v1/media/md1": () => json(mediaView("md1")),
      "GET /api/v1/media/gone": () => apiError(404, "not_found", "no such media"),
      [`PATCH /api/v1/drafts/${D1}`]: (body) => json(savedDraft(body as Record<string, unknown>)),
    });
    renderApp(`/compose?draft=${D1}`);
    await screen.findByRole("heading", { name: "Edit draft" });
    expect(screen.getAllByTestId("attachment")).toHaveLength(2);
    expect(screen.getByRole("alert")).toHaveTextContent("Not attached: no such media");
    expect(screen.getByRole("button", { name: "Publish now" })).toBeDisabled();
    fireEvent.click(screen.getByRole("button", { name: "Remove Attachment 2" }));
    fireEvent.click(screen.getByRole("button", { name: "Remove Image 1" }));
    expect(screen.queryAllByTestId("attachment")).toHaveLength(0);
    expect(calls.filter((c) => c.method === "DELETE")).toHaveLength(0);
    fireEvent.click(screen.getByRole("button", { name: "Save draft" }));
    await waitFor(() => expect(callsTo(calls, "PATCH", `/api/v1/drafts/${D1}`)).toHaveLength(1));
    expect(callsTo(calls, "PATCH", `/api/v1/drafts/${D1}`)[0].body).toMatchObject({ media_ids: [] });
  });

  it("says a draft the server does not know is gone", async () => {
    signedIn();
    renderApp(`/compose?draft=${D1}`);
    expect(await screen.findByText(/No such draft — it may have been published or deleted\./)).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "See your drafts" })).toHaveAttribute("href", "/drafts");
  });
});

describe("editing a scheduled post", () => {
  it("loads the post, sends PATCH with every field, and reads Save changes", async () => {
    const calls = signedIn({
      [`GET /api/v1/jobs/${J1}`]: () => json(scheduledJob),
      [`PATCH /api/v1/posts/${P1}`]: (body) => json({ ...scheduledJob, ...(body as object) }),
    });
    renderApp(`/compose?post=${P1}&job=${J1}`);
    expect(await screen.findByRole("heading", { name: "Edit post" })).toBeInTheDocument();
    expect(screen.getByLabelText("Post")).toHaveValue("see you tomorrow");
    expect(screen.getByRole("checkbox", { name: "Manch @ada" })).toBeChecked();
    expect(screen.getByRole("checkbox", { name: "Mastodon @hal@fosstodon.org" })).toBeChecked();
    expect(screen.getByLabelText("Visibility")).toHaveValue("unlisted");
    expect(screen.queryByRole("button", { name: "Save draft" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Schedule" })).not.toBeInTheDocument();

    fireEvent.change(screen.getByLabelText("Post"), { target: { value: "see you on Friday" } });
    fireEvent.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(callsTo(calls, "PATCH", `/api/v1/posts/${P1}`)).toHaveLength(1));
    const body = callsTo(calls, "PATCH", `/api/v1/posts/${P1}`)[0].body as Record<string, unknown>;
    expect(body).toMatchObject({
      content: "see you on Friday",
      connection_ids: ["c1", "m1"],
      media_ids: [],
      time_zone: browserTimeZone(),
      options: { visibility: "unlisted" },
      variations: [{ connection_id: "m1", content: "see you" }],
    });
    expect(new Date(body.scheduled_at as string).toISOString()).toBe(new Date(scheduledJob.scheduled_at).toISOString());
    expect(callsTo(calls, "POST", "/api/v1/posts")).toHaveLength(0);
    expect(await screen.findByText("Loading the publish…")).toBeInTheDocument();
  });

  it("shows the server's 409 when a target has started meanwhile", async () => {
    signedIn({
      [`GET /api/v1/jobs/${J1}`]: () => json(scheduledJob),
      [`PATCH /api/v1/posts/${P1}`]: () =>
        apiError(409, "already_started", "Manch @ada has started publishing; the post can no longer be changed."),
    });
    renderApp(`/compose?post=${P1}&job=${J1}`);
    fireEvent.click(await screen.findByRole("button", { name: "Save changes" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Manch @ada has started publishing");
    expect(screen.getByRole("heading", { name: "Edit post" })).toBeInTheDocument();
  });

  it("says a post that has started cannot be changed, and links to its status", async () => {
    const calls = signedIn({ [`GET /api/v1/jobs/${J1}`]: () => json({ ...scheduledJob, status: "running", editable: false }) });
    renderApp(`/compose?post=${P1}&job=${J1}`);
    expect(await screen.findByText(/This post can no longer be changed/)).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "See its status" })).toHaveAttribute("href", `/jobs/${J1}`);
    expect(screen.queryByRole("button", { name: "Save changes" })).not.toBeInTheDocument();
    expect(nonGets(calls)).toEqual([]);
  });

  it("sends nothing for an address that names no post", async () => {
    const calls = signedIn();
    renderApp("/compose?job=nope");
    expect(await screen.findByText(/This is not a post's address\./)).toBeInTheDocument();
    expect(calls.filter((c) => c.url.startsWith("/api/v1/jobs"))).toHaveLength(0);
  });
});

describe("own text per account", () => {
  it("gives an account its own text in its tab, counts and previews it, and sends it", async () => {
    const calls = signedIn();
    renderApp("/compose");
    const post = await screen.findByLabelText("Post");
    await waitFor(() => expect(screen.getByRole("checkbox", { name: "Manch @ada" })).toBeChecked());
    fireEvent.change(post, { target: { value: "a long text for Manch that Mastodon cannot take" } });
    expect(screen.getByTestId("counter-mastodon")).toHaveTextContent("too long");
    expect(screen.getByRole("button", { name: "Publish now" })).toBeDisabled();

    const tabs = screen.getByRole("tablist", { name: "Whose text" });
    expect(within(tabs).getAllByRole("tab").map((t) => t.textContent)).toEqual(["All", "Manch @ada", "Mastodon @hal@fosstodon.org"]);
    expect(within(tabs).getByRole("tab", { name: "All" })).toHaveAttribute("aria-selected", "true");
    fireEvent.click(within(tabs).getByRole("tab", { name: "Mastodon @hal@fosstodon.org" }));
    const own = screen.getByLabelText("Post for Mastodon @hal@fosstodon.org");
    // Until changed, the account's tab shows the main text.
    expect(own).toHaveValue("a long text for Manch that Mastodon cannot take");
    fireEvent.change(own, { target: { value: "short for Mastodon" } });
    expect(screen.getByRole("tab", { name: /Mastodon @hal@fosstodon.org · own text/ })).toHaveAttribute("aria-selected", "true");
    expect(screen.getByTestId("counter-mastodon-m1")).toHaveTextContent("18 / 20");
    expect(screen.getByTestId("counter-mastodon-m1")).not.toHaveClass("text-red-600");
    const card = screen.getByTestId("preview-mastodon-m1");
    expect(card).toHaveTextContent("short for Mastodon");
    expect(card).toHaveTextContent("own text");
    expect(screen.getByTestId("preview-manch")).toHaveTextContent("a long text for Manch");
    expect(screen.getByRole("button", { name: "Publish now" })).toBeEnabled();

    fireEvent.click(screen.getByRole("button", { name: "Publish now" }));
    await waitFor(() => expect(callsTo(calls, "POST", "/api/v1/posts")).toHaveLength(1));
    expect(callsTo(calls, "POST", "/api/v1/posts")[0].body).toMatchObject({
      content: "a long text for Manch that Mastodon cannot take",
      connection_ids: ["c1", "m1"],
      variations: [{ connection_id: "m1", content: "short for Mastodon" }],
    });
    expect(await screen.findByText("Loading the publish…")).toBeInTheDocument();
  });

  it("goes back to the main text with Use the main text, and refuses an emptied own text", async () => {
    const calls = signedIn();
    renderApp("/compose");
    fireEvent.change(await screen.findByLabelText("Post"), { target: { value: "hello" } });
    await waitFor(() => expect(screen.getByRole("checkbox", { name: "Manch @ada" })).toBeChecked());
    fireEvent.click(screen.getByRole("tab", { name: "Manch @ada" }));
    fireEvent.change(screen.getByLabelText("Post for Manch @ada"), { target: { value: "" } });
    fireEvent.click(screen.getByRole("button", { name: "Publish now" }));
    expect(await screen.findByText("An account's own text is empty: write it, or use the main text.")).toBeInTheDocument();
    expect(callsTo(calls, "POST", "/api/v1/posts")).toHaveLength(0);

    fireEvent.click(screen.getByRole("button", { name: "Use the main text" }));
    expect(screen.getByLabelText("Post for Manch @ada")).toHaveValue("hello");
    expect(screen.getByRole("tab", { name: "Manch @ada" })).toBeInTheDocument();
    expect(screen.queryByTestId("counter-manch-c1")).not.toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: "Publish now" }));
    await waitFor(() => expect(callsTo(calls, "POST", "/api/v1/posts")).toHaveLength(1));
    expect(callsTo(calls, "POST", "/api/v1/posts")[0].body).not.toHaveProperty("variations");
    expect(await screen.findByText("Loading the publish…")).toBeInTheDocument();
  });

  it("moves between the tabs with the arrow keys", async () => {
    signedIn();
    renderApp("/compose");
    fireEvent.change(await screen.findByLabelText("Post"), { target: { value: "hello" } });
    await waitFor(() => expect(screen.getByRole("checkbox", { name: "Manch @ada" })).toBeChecked());
    const all = screen.getByRole("tab", { name: "All" });
    all.focus();
    fireEvent.keyDown(all, { key: "ArrowRight" });
    expect(screen.getByRole("tab", { name: "Manch @ada" })).toHaveFocus();
    expect(screen.getByRole("tab", { name: "Manch @ada" })).toHaveAttribute("aria-selected", "true");
    fireEvent.keyDown(screen.getByRole("tab", { name: "Manch @ada" }), { key: "ArrowLeft" });
    expect(all).toHaveFocus();
  });
});

describe("Ctrl+Enter", () => {
  it("publishes from the text box, with Ctrl or with Cmd, but not while the post is too long", async () => {
    const calls = signedIn();
    renderApp("/compose");
    const post = await screen.findByLabelText("Post");
    await waitFor(() => expect(screen.getByRole("checkbox", { name: "Manch @ada" })).toBeChecked());
    fireEvent.change(post, { target: { value: "this is far too long for Mastodon's twenty" } });
    fireEvent.keyDown(post, { key: "Enter", ctrlKey: true });
    fireEvent.keyDown(post, { key: "Enter", metaKey: true });
    // Enter alone is a new line.
    fireEvent.change(post, { target: { value: "short" } });
    fireEvent.keyDown(post, { key: "Enter" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(callsTo(calls, "POST", "/api/v1/posts")).toHaveLength(0);

    fireEvent.keyDown(post, { key: "Enter", metaKey: true });
    await waitFor(() => expect(callsTo(calls, "POST", "/api/v1/posts")).toHaveLength(1));
    expect(callsTo(calls, "POST", "/api/v1/posts")[0].body).toMatchObject({ content: "short" });
    expect(await screen.findByText("Loading the publish…")).toBeInTheDocument();
  });

  it("saves changes in edit mode", async () => {
    const calls = signedIn({
      [`GET /api/v1/jobs/${J1}`]: () => json(scheduledJob),
      [`PATCH /api/v1/posts/${P1}`]: () => json(scheduledJob),
    });
    renderApp(`/compose?post=${P1}&job=${J1}`);
    const post = await screen.findByLabelText("Post");
    fireEvent.keyDown(post, { key: "Enter", ctrlKey: true });
    await waitFor(() => expect(callsTo(calls, "PATCH", `/api/v1/posts/${P1}`)).toHaveLength(1));
    expect(await screen.findByText("Loading the publish…")).toBeInTheDocument();
  });
});
