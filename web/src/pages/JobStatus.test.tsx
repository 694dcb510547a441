import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter, Route, Routes, useLocation } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FakeEventSource } from "../test-events";
import { browserTimeZone } from "../lib/schemas";
import { fromWallTime, localInputValue } from "../lib/zoned";
import { apiError, callsTo, fakeServer, json } from "../test-fetch";
import { History } from "./History";
import { JobStatusPage } from "./JobStatus";

const J1 = "5f0c6a0e-4d1b-4b7e-9a3c-0b6a8f1d2e3c";

const task = (id: string, fields: Record<string, unknown>) => ({
  id,
  connection_id: "m1",
  platform: "matrix",
  handle: "@alice:localhost",
  status: "succeeded",
  attempts: 1,
  next_attempt_at: null,
  last_error: null,
  last_error_kind: null,
  external_url: null,
  ...fields,
});

/** One post to two Matrix rooms of one account, and to a Bluesky account. */
const job = {
  job_id: J1,
  post_id: "p1",
  status: "succeeded",
  content: "hello rooms",
  scheduled_at: null,
  time_zone: null,
  created_at: "2026-01-01T00:00:00Z",
  tasks: [
    task("t1", { destination: "!a:localhost", destination_name: "Announcements" }),
    task("t2", { destination: "!r:localhost", destination_name: "Random" }),
    task("t3", { connection_id: "b1", platform: "bluesky", handle: "ada.test" }),
  ],
};

/** A post to Manch scheduled for later that has not started. */
const scheduled = {
  ...job,
  status: "pending",
  content: "see you tomorrow",
  scheduled_at: "2999-03-04T09:30:00Z",
  time_zone: "Europe/Berlin",
  tasks: [task("t9", { platform: "manch", handle: "ada", status: "queued", attempts: 0, completed_at: null })],
};

const cancelledJob = {
  ...scheduled,
  status: "cancelled",
  tasks: [{ ...scheduled.tasks[0], status: "cancelled", last_error: "cancelled by the user", completed_at: "2026-01-02T10:00:00Z" }],
};

function renderJobPage(path: string) {
  vi.stubGlobal("EventSource", FakeEventSource);
  return render(
    <MemoryRouter initialEntries={[path]}>
      <Routes>
        <Route path="/jobs/:id" element={<JobStatusPage />} />
      </Routes>
    </MemoryRouter>,
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
  FakeEventSource.opened = [];
});

describe("the tasks of a post", () => {
  it("name each task's platform and room beside its account on the status page", async () => {
    renderJobPage(`/jobs/${J1}`);
    expect(FakeEventSource.opened[0].url).toBe(`/api/v1/jobs/${J1}/events`);
    act(() => FakeEventSource.opened[0].emit("snapshot", job));
    const tasks = await screen.findAllByTestId("task");
    expect(tasks).toHaveLength(3);
    expect(tasks[0]).toHaveTextContent("Matrix @alice:localhost · Announcements");
    expect(tasks[1]).toHaveTextContent("Matrix @alice:localhost · Random");
    expect(tasks[2]).toHaveTextContent(/^Bluesky @ada\.test/);
  });

  it("name each task's platform and room in the history", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn().mockResolvedValue(
        new Response(JSON.stringify({ posts: [job], next_cursor: null }), {
          headers: { "Content-Type": "application/json" },
        }),
      ),
    );
    render(
      <MemoryRouter>
        <History />
      </MemoryRouter>,
    );
    expect(
      await screen.findByText(
        /Matrix @alice:localhost · Announcements, Matrix @alice:localhost · Random, Bluesky @ada\.test$/,
      ),
    ).toBeInTheDocument();
  });
});

describe("the job page", () => {
  it("says an address that is no job's is not one, without asking the server", () => {
    const calls = fakeServer({});
    renderJobPage("/jobs/not-a-uuid");
    expect(screen.getByRole("status")).toHaveTextContent("This is not a job address. Back to History");
    expect(screen.getByRole("link", { name: "Back to History" })).toHaveAttribute("href", "/history");
    expect(screen.queryByText(/deserialize/i)).not.toBeInTheDocument();
    expect(FakeEventSource.opened).toHaveLength(0);
    expect(calls).toHaveLength(0);
  });

  it("says a job the server does not know may be someone else's, with links to go on", async () => {
    fakeServer({});
    renderJobPage(`/jobs/${J1}`);
    // The server answers the stream with 404: the browser closes it; the page reads the job.
    act(() => FakeEventSource.opened[0].fail());
    expect(
      await screen.findByText(/No such job — it may belong to another account, or the link is wrong\./),
    ).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "History" })).toHaveAttribute("href", "/history");
    expect(screen.getByRole("link", { name: "Dashboard" })).toHaveAttribute("href", "/");
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("says the page is updating live, not that the post is live, and shows a scheduled post's time as its status", async () => {
    renderJobPage(`/jobs/${J1}`);
    act(() => FakeEventSource.opened[0].emit("snapshot", scheduled));
    const status = await screen.findByTestId("job-status");
    expect(status).toHaveTextContent(`Scheduled for ${new Date(scheduled.scheduled_at).toLocaleString()}`);
    expect(screen.queryByText("Pending")).not.toBeInTheDocument();
    expect(screen.getByTestId("live-updates")).toHaveTextContent("Updating live");
    expect(screen.queryByText("Live", { exact: true })).not.toBeInTheDocument();
    // The time is said once.
    expect(screen.getAllByText(/Scheduled for/)).toHaveLength(1);
  });

  it("shows when a published post and each of its targets went out", async () => {
    renderJobPage(`/jobs/${J1}`);
    const done = {
      ...job,
      completed_at: "2026-01-01T00:00:09Z",
      tasks: job.tasks.map((t, i) => ({ ...t, completed_at: `2026-01-01T00:00:0${i + 1}Z` })),
    };
    act(() => FakeEventSource.opened[0].emit("snapshot", done));
    expect(await screen.findByTestId("job-published-at")).toHaveTextContent(
      `Published ${new Date("2026-01-01T00:00:09Z").toLocaleString()}`,
    );
    const tasks = screen.getAllByTestId("task");
    expect(within(tasks[0]).getByText(new Date("2026-01-01T00:00:01Z").toLocaleString())).toHaveAttribute(
      "datetime",
      "2026-01-01T00:00:01Z",
    );
    expect(screen.queryByText("Updating live")).not.toBeInTheDocument();
  });

  it("shows no publish time the API did not send", async () => {
    const { container } = renderJobPage(`/jobs/${J1}`);
    act(() => FakeEventSource.opened[0].emit("snapshot", job));
    await screen.findAllByTestId("task");
    expect(screen.queryByTestId("job-published-at")).not.toBeInTheDocument();
    expect(container.querySelector("time")).toBeNull();
  });

  it("asks before cancelling a scheduled post, and reports it as done, not as an error", async () => {
    const calls = fakeServer({
      [`POST /api/v1/jobs/${J1}/cancel`]: () => json({ tasks: 1 }),
      [`GET /api/v1/jobs/${J1}`]: () => json(cancelledJob),
    });
    renderJobPage(`/jobs/${J1}`);
    act(() => FakeEventSource.opened[0].emit("snapshot", scheduled));

    fireEvent.click(await screen.findByRole("button", { name: "Cancel" }));
    const dialog = screen.getByRole("alertdialog", { name: "Cancel this scheduled post?" });
    expect(within(dialog).getByRole("button", { name: "Yes, cancel" })).toHaveFocus();
    fireEvent.click(within(dialog).getByRole("button", { name: "Keep it" }));
    expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Cancel" })).toHaveFocus();
    expect(callsTo(calls, "POST", `/api/v1/jobs/${J1}/cancel`)).toHaveLength(0);

    fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    fireEvent.click(screen.getByRole("button", { name: "Yes, cancel" }));
    const done = await screen.findByText("Done: this post will not be published.");
    expect(done.closest('[role="status"]')).not.toBeNull();
    expect(callsTo(calls, "POST", `/api/v1/jobs/${J1}/cancel`)).toHaveLength(1);
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();

    // The stream is opened again and tells the outcome; the reason is no error either.
    act(() => FakeEventSource.latest().emit("snapshot", cancelledJob));
    await waitFor(() => expect(screen.getByTestId("job-status")).toHaveTextContent("Cancelled"));
    const reason = screen.getByText("Cancelled by the user.");
    expect(reason).not.toHaveClass("text-red-700");
    expect(screen.queryByRole("button", { name: "Cancel" })).not.toBeInTheDocument();
  });

  it("says why each target failed and the next step for its kind of failure, with the platform's words below", async () => {
    const later = new Date(Date.now() + 10 * 60_000).toISOString();
    renderJobPage(`/jobs/${J1}`);
    act(() =>
      FakeEventSource.opened[0].emit("snapshot", {
        ...job,
        status: "running",
        tasks: [
          task("t1", { platform: "manch", handle: "ada", status: "failed", last_error_kind: "revoked", last_error: "the grant was revoked" }),
          task("t2", { platform: "bluesky", handle: "ada.test", status: "failed", last_error_kind: "rejected", last_error: "text too long" }),
          task("t3", {
            platform: "mastodon",
            handle: "ada@example.org",
            status: "retry_scheduled",
            next_attempt_at: later,
            last_error_kind: "transient",
            last_error: "503 Service Unavailable",
          }),
        ],
      }),
    );
    const [revoked, rejected, transient] = await screen.findAllByTestId("task");

    expect(within(revoked).getByTestId("task-problem")).toHaveTextContent(
      /^Prasaran can no longer post to this account\. Reconnect it on the Dashboard\.The platform said: the grant was revoked$/,
    );
    expect(within(revoked).getByRole("link", { name: "Reconnect it on the Dashboard" })).toHaveAttribute("href", "/");
    expect(within(revoked).getByTestId("platform-said")).toHaveClass("text-xs");

    // The reason is in the sentence already: not said twice.
    expect(within(rejected).getByTestId("task-problem")).toHaveTextContent(
      /^Bluesky refused this post: text too long\. Edit the text and post again\.$/,
    );
    expect(within(rejected).queryByTestId("platform-said")).not.toBeInTheDocument();

    expect(
      within(transient).getByText(
        `The platform was briefly unavailable. Prasaran retries by itself at ${new Date(later).toLocaleString()}.`,
      ),
    ).not.toHaveClass("text-red-700");
    expect(within(transient).getByTestId("platform-said")).toHaveTextContent("The platform said: 503 Service Unavailable");
  });
});

describe("the history", () => {
  it("shows a scheduled post's time as its status, asks before cancelling it, and reports it as done", async () => {
    const calls = fakeServer({
      "GET /api/v1/posts?limit=10": () => json({ posts: [scheduled], next_cursor: null }),
      [`POST /api/v1/jobs/${J1}/cancel`]: () => json({ tasks: 1 }),
      [`GET /api/v1/jobs/${J1}`]: () => json(cancelledJob),
    });
    render(
      <MemoryRouter>
        <History />
      </MemoryRouter>,
    );
    const post = (await screen.findByText("see you tomorrow")).closest("li")!;
    expect(post).toHaveTextContent(`Scheduled for ${new Date(scheduled.scheduled_at).toLocaleString()}`);
    expect(within(post).queryByText("Pending")).not.toBeInTheDocument();
    expect(post).toHaveTextContent("Manch @ada");

    fireEvent.click(within(post).getByRole("button", { name: "Cancel" }));
    fireEvent.click(within(post).getByRole("button", { name: "Keep it" }));
    expect(callsTo(calls, "POST", `/api/v1/jobs/${J1}/cancel`)).toHaveLength(0);

    fireEvent.click(within(post).getByRole("button", { name: "Cancel" }));
    const dialog = within(post).getByRole("alertdialog", { name: "Cancel this scheduled post?" });
    fireEvent.click(within(dialog).getByRole("button", { name: "Yes, cancel" }));
    expect(await within(post).findByRole("status")).toHaveTextContent("Done: this post will not be published.");
    await waitFor(() => expect(within(post).getByText("Cancelled")).toBeInTheDocument());
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    expect(callsTo(calls, "POST", `/api/v1/jobs/${J1}/cancel`)).toHaveLength(1);
    expect(within(post).queryByRole("button", { name: "Cancel" })).not.toBeInTheDocument();
  });

  it("shows when a published post went out, where the API says", async () => {
    fakeServer({
      "GET /api/v1/posts?limit=10": () =>
        json({ posts: [{ ...job, completed_at: "2026-01-01T00:00:09Z" }], next_cursor: null }),
    });
    render(
      <MemoryRouter>
        <History />
      </MemoryRouter>,
    );
    expect(await screen.findByText(new RegExp(`Published ${escape(new Date("2026-01-01T00:00:09Z").toLocaleString())}`))).toBeInTheDocument();
  });
});

function escape(text: string) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

describe("a target's attempt history", () => {
  const event = (at: string, from_status: string | null, to_status: string, attempt: number, fields: Record<string, unknown> = {}) => ({
    at,
    from_status,
    to_status,
    attempt,
    outcome: null,
    platform_status: null,
    latency_ms: null,
    detail: null,
    ...fields,
  });
  const history = [
    event("2026-01-01T00:00:00Z", null, "queued", 0),
    event("2026-01-01T00:00:01Z", "queued", "running", 1),
    event("2026-01-01T00:00:02Z", "running", "retry_scheduled", 1, {
      outcome: "transient",
      platform_status: 503,
      latency_ms: 120,
      detail: "injected fault: 503 Service Unavailable",
    }),
    event("2026-01-01T00:00:07Z", "retry_scheduled", "running", 2),
    event("2026-01-01T00:00:08Z", "running", "succeeded", 2, { outcome: "ok", platform_status: 201 }),
  ];

  it("counts the attempts made and tells each change in words, with the platform's answer", async () => {
    renderJobPage(`/jobs/${J1}`);
    act(() =>
      FakeEventSource.opened[0].emit("snapshot", {
        ...job,
        tasks: [task("t1", { platform: "manch", handle: "ada", attempts: 2, history }), { ...job.tasks[2], history: [] }],
      }),
    );
    const [withHistory, without] = await screen.findAllByTestId("task");
    const details = within(withHistory).getByTestId("attempt-history");
    expect(details.tagName).toBe("DETAILS");
    expect(details).not.toHaveAttribute("open");
    expect(within(details).getByText("Attempt history (2)").tagName).toBe("SUMMARY");
    const rows = within(details).getAllByTestId("attempt-event");
    expect(rows.map((r) => r.textContent)).toEqual([
      `${new Date(history[0].at).toLocaleString()} Queued`,
      `${new Date(history[1].at).toLocaleString()} Attempt 1 started`,
      `${new Date(history[2].at).toLocaleString()} Failed for now — retrying — temporary problem · HTTP 503 · 120 msinjected fault: 503 Service Unavailable`,
      `${new Date(history[3].at).toLocaleString()} Attempt 2 started`,
      `${new Date(history[4].at).toLocaleString()} Published — HTTP 201`,
    ]);
    expect(within(rows[0]).getByText(new Date(history[0].at).toLocaleString())).toHaveAttribute("datetime", history[0].at);
    // No history (as in the list of posts): no disclosure.
    expect(within(without).queryByTestId("attempt-history")).not.toBeInTheDocument();
  });

  it("says when a target waiting to retry runs again, not 'soon'", async () => {
    renderJobPage(`/jobs/${J1}`);
    const later = new Date(Date.now() + 10 * 60_000).toISOString();
    const soon = new Date(Date.now() + 20_500).toISOString();
    act(() =>
      FakeEventSource.opened[0].emit("snapshot", {
        ...job,
        status: "running",
        tasks: [
          task("t1", { status: "retry_scheduled", next_attempt_at: later, history: history.slice(0, 3) }),
          task("t2", { status: "retry_scheduled", next_attempt_at: soon }),
          task("t3", { status: "unconfirmed", next_attempt_at: later }),
        ],
      }),
    );
    const tasks = await screen.findAllByTestId("task");
    expect(within(tasks[0]).getByText(`Retrying at ${new Date(later).toLocaleString()}`)).toBeInTheDocument();
    expect(within(tasks[1]).getByText(/^Retrying in (20|21) s$/)).toBeInTheDocument();
    expect(within(tasks[2]).getByText(`Checking with the platform: checking again at ${new Date(later).toLocaleString()}`)).toBeInTheDocument();
    expect(screen.queryByText(/Retrying soon/)).not.toBeInTheDocument();
    expect(within(tasks[0]).getByText("Attempt history (1)")).toBeInTheDocument();
  });
});

describe("the history, live", () => {
  const running = { ...job, status: "running", content: "going out", tasks: [task("t1", { status: "running", completed_at: null })] };
  const done = { ...running, status: "succeeded", tasks: [task("t1", { completed_at: "2026-01-01T00:00:09Z" })] };
  const older = { ...job, job_id: "6f0c6a0e-4d1b-4b7e-9a3c-0b6a8f1d2e3c", content: "an older post" };

  afterEach(() => {
    vi.useRealTimers();
    Reflect.deleteProperty(document, "visibilityState");
  });

  /** Lets `ms` pass on the poll's clock, then lets its answer arrive. */
  async function wait(ms: number) {
    await act(async () => {
      vi.advanceTimersByTime(ms);
      await new Promise((resolve) => setTimeout(resolve, 0));
    });
  }

  function renderHistory() {
    return render(
      <MemoryRouter>
        <History />
      </MemoryRouter>,
    );
  }

  it("reads the first page again every 5 seconds while a post is going out, and stops once all are final", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const answers = [running, running, done];
    const calls = fakeServer({
      "GET /api/v1/posts?limit=10": () => json({ posts: [answers.shift() ?? done], next_cursor: null }),
    });
    renderHistory();
    const post = (await screen.findByText("going out")).closest("li")!;
    expect(within(post).getByText("Publishing")).toBeInTheDocument();
    const reads = () => callsTo(calls, "GET", "/api/v1/posts?limit=10").length;
    expect(reads()).toBe(1);

    await wait(4_999);
    expect(reads()).toBe(1);
    await wait(1);
    expect(reads()).toBe(2);
    expect(within(post).getByText("Publishing")).toBeInTheDocument();
    await wait(5_000);
    expect(reads()).toBe(3);
    await waitFor(() => expect(within(post).getByText("Published")).toBeInTheDocument());
    // All final: no more reads.
    await wait(30_000);
    expect(reads()).toBe(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("does not read while the page is hidden, and stops when it closes", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const calls = fakeServer({ "GET /api/v1/posts?limit=10": () => json({ posts: [running], next_cursor: null }) });
    const { unmount } = renderHistory();
    await screen.findByText("going out");
    const reads = () => callsTo(calls, "GET", "/api/v1/posts?limit=10").length;
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
    await wait(15_000);
    expect(reads()).toBe(1);
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "visible" });
    await wait(5_000);
    expect(reads()).toBe(2);
    unmount();
    expect(vi.getTimerCount()).toBe(0);
    await wait(15_000);
    expect(reads()).toBe(2);
  });

  it("keeps older pages the user loaded when it reads the first page again", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const first = [running, done];
    const calls = fakeServer({
      "GET /api/v1/posts?limit=10": () => json({ posts: [first.shift() ?? done], next_cursor: "c1" }),
      "GET /api/v1/posts?limit=10&cursor=c1": () => json({ posts: [older], next_cursor: null }),
    });
    renderHistory();
    await screen.findByText("going out");
    fireEvent.click(screen.getByRole("button", { name: "Older posts" }));
    await screen.findByText("an older post");
    expect(screen.queryByRole("button", { name: "Older posts" })).not.toBeInTheDocument();

    await wait(5_000);
    expect(callsTo(calls, "GET", "/api/v1/posts?limit=10")).toHaveLength(2);
    const posts = screen.getByRole("list", { name: "Posts" });
    const fresh = screen.getByText("going out").closest("li")!;
    await waitFor(() => expect(within(fresh).getByText("Published")).toBeInTheDocument());
    expect(within(posts).getAllByRole("listitem").map((li) => li.querySelector("p")?.textContent)).toEqual([
      "going out",
      "an older post",
    ]);
    // The end of the list stays the end: no way back to page two.
    expect(screen.queryByRole("button", { name: "Older posts" })).not.toBeInTheDocument();
  });
});

describe("changing a post from its page", () => {
  const editable = { ...scheduled, post_id: "p9", editable: true, media_ids: [], options: {}, variations: [] };

  function ComposerAddress() {
    const location = useLocation();
    return <p data-testid="composer-at">{location.pathname + location.search}</p>;
  }

  function renderWithComposer(path: string) {
    vi.stubGlobal("EventSource", FakeEventSource);
    return render(
      <MemoryRouter initialEntries={[path]}>
        <Routes>
          <Route path="/jobs/:id" element={<JobStatusPage />} />
          <Route path="/compose" element={<ComposerAddress />} />
        </Routes>
      </MemoryRouter>,
    );
  }

  it("offers Edit and Reschedule while nothing has gone out, and reschedules with the keyboard form", async () => {
    const zone = browserTimeZone();
    const moved = { ...editable, scheduled_at: "2999-03-05T10:15:00Z" };
    const calls = fakeServer({ "PATCH /api/v1/posts/p9": () => json(moved) });
    renderWithComposer(`/jobs/${J1}`);
    act(() => FakeEventSource.opened[0].emit("snapshot", editable));
    expect(await screen.findByRole("link", { name: "Edit" })).toHaveAttribute("href", `/compose?post=p9&job=${J1}`);

    const reschedule = screen.getByRole("button", { name: "Reschedule" });
    fireEvent.click(reschedule);
    const dialog = screen.getByRole("dialog", { name: "Reschedule" });
    const field = within(dialog).getByLabelText(`New date and time (${zone})`);
    expect(field).toHaveValue(localInputValue(editable.scheduled_at, zone));
    expect(field).toHaveFocus();
    fireEvent.change(field, { target: { value: "2999-03-05T10:15" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(callsTo(calls, "PATCH", "/api/v1/posts/p9")).toHaveLength(1));
    const body = callsTo(calls, "PATCH", "/api/v1/posts/p9")[0].body as { scheduled_at: string; time_zone: string };
    expect(body.time_zone).toBe(zone);
    expect(new Date(body.scheduled_at).getTime()).toBe(
      fromWallTime({ year: 2999, month: 3, day: 5, hour: 10, minute: 15 }, zone).getTime(),
    );
    expect(await screen.findByText(`Rescheduled for ${new Date(moved.scheduled_at).toLocaleString()}.`)).toBeInTheDocument();
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    expect(screen.getByTestId("job-status")).toHaveTextContent(`Scheduled for ${new Date(moved.scheduled_at).toLocaleString()}`);
    expect(screen.getByRole("button", { name: "Reschedule" })).toHaveFocus();
  });

  it("shows the server's refusal in the form, refuses a past time itself, and closes with Escape", async () => {
    const calls = fakeServer({
      "PATCH /api/v1/posts/p9": () => apiError(409, "already_started", "Manch @ada has already started; it can no longer move."),
    });
    renderWithComposer(`/jobs/${J1}`);
    act(() => FakeEventSource.opened[0].emit("snapshot", editable));
    fireEvent.click(await screen.findByRole("button", { name: "Reschedule" }));
    const dialog = screen.getByRole("dialog", { name: "Reschedule" });
    const field = within(dialog).getByLabelText(/^New date and time/);
    fireEvent.change(field, { target: { value: "2000-01-01T10:00" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Save" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("Pick a time in the future.");
    expect(callsTo(calls, "PATCH", "/api/v1/posts/p9")).toHaveLength(0);

    fireEvent.change(field, { target: { value: "2999-03-05T10:15" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(within(dialog).getByRole("alert")).toHaveTextContent("Manch @ada has already started"));
    fireEvent.keyDown(field, { key: "Escape" });
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Reschedule" })).toHaveFocus();
  });

  it("offers neither once something has gone out; Post again opens a new draft in the composer", async () => {
    const calls = fakeServer({ "POST /api/v1/posts/p1/duplicate": () => json({ id: "d-new", status: "draft" }, 201) });
    renderWithComposer(`/jobs/${J1}`);
    act(() => FakeEventSource.opened[0].emit("snapshot", { ...job, editable: false }));
    await screen.findAllByTestId("task");
    expect(screen.queryByRole("link", { name: "Edit" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Reschedule" })).not.toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: "Post again" }));
    expect(await screen.findByTestId("composer-at")).toHaveTextContent("/compose?draft=d-new");
    expect(callsTo(calls, "POST", "/api/v1/posts/p1/duplicate")).toHaveLength(1);
  });

  it("shows a target's own text where it has one", async () => {
    renderJobPage(`/jobs/${J1}`);
    act(() =>
      FakeEventSource.opened[0].emit("snapshot", {
        ...job,
        tasks: [job.tasks[0], { ...job.tasks[2], content: "hello, Bluesky" }],
      }),
    );
    const tasks = await screen.findAllByTestId("task");
    expect(within(tasks[0]).queryByTestId("task-own-text")).not.toBeInTheDocument();
    expect(within(tasks[1]).getByTestId("task-own-text")).toHaveTextContent("Its own text: hello, Bluesky");
  });
});
