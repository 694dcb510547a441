import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { callsTo, fakeServer, json, type Answer } from "../test-fetch";
import { Queue } from "./Queue";

const BERLIN = "Europe/Berlin";

const post = (id: string, scheduledAt: string, fields: Record<string, unknown> = {}) => ({
  job_id: `job-${id}`,
  post_id: `post-${id}`,
  status: "pending",
  content: id,
  scheduled_at: scheduledAt,
  time_zone: BERLIN,
  created_at: "2026-02-01T00:00:00Z",
  updated_at: "2026-02-01T00:00:00Z",
  completed_at: null,
  tasks: [
    {
      id: `t-${id}`,
      connection_id: "b1",
      platform: "bluesky",
      handle: "ada.bsky.social",
      status: "queued",
      attempts: 0,
      next_attempt_at: null,
      last_error: null,
      last_error_kind: null,
      external_url: null,
      completed_at: null,
    },
  ],
  media_ids: [],
  options: {},
  variations: [],
  editable: true,
  ...fields,
});

// It is 11:00 on Wednesday 4 March in Berlin.
const soon = post("lunch special", "2026-03-04T11:15:00Z");
const tomorrow = post("morning news", "2026-03-05T07:00:00Z");
const later = post("weekend plans", "2026-03-07T16:00:00Z");

function queueServer(answers: Record<string, Answer> = {}) {
  const queries: URLSearchParams[] = [];
  const calls = fakeServer({
    "GET /api/v1/posts": (_body, url) => {
      queries.push(url.searchParams);
      return url.searchParams.get("cursor")
        ? json({ posts: [later], next_cursor: null })
        : json({ posts: [soon, tomorrow], next_cursor: "p2" });
    },
    ...answers,
  });
  return { calls, queries };
}

function renderQueue() {
  return render(
    <MemoryRouter>
      <Queue zone={BERLIN} />
    </MemoryRouter>,
  );
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date("2026-03-04T10:00:00Z"));
});

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("the queue", () => {
  it("asks for pending posts from now in time order, every page, and groups them by day in the zone", async () => {
    const { queries } = queueServer();
    renderQueue();
    await screen.findByText("weekend plans");
    expect(Object.fromEntries(queries[0])).toEqual({
      limit: "100",
      order: "time",
      from: "2026-03-04T10:00:00Z",
      status: "pending",
    });
    expect(queries[1].get("cursor")).toBe("p2");
    expect(screen.getByTestId("queue-zone")).toHaveTextContent("Times in Europe/Berlin");

    const headings = screen.getAllByRole("heading", { level: 2 }).map((h) => h.textContent);
    expect(headings).toHaveLength(3);
    expect(headings[0]).toMatch(/^Today · /);
    expect(headings[1]).toMatch(/^Tomorrow · /);
    expect(headings[2]).not.toMatch(/Today|Tomorrow/);
    const first = screen.getAllByTestId("queue-post")[0];
    expect(first).toHaveTextContent("12:15");
    expect(first).toHaveTextContent("lunch special");
    expect(first).toHaveTextContent("Bluesky @ada.bsky.social");
    expect(within(first).getByRole("link", { name: "Edit" })).toHaveAttribute(
      "href",
      "/compose?post=post-lunch special&job=job-lunch special",
    );
  });

  it("reschedules a post and puts it in its new place", async () => {
    const moved = { ...soon, scheduled_at: "2026-03-08T09:00:00Z" };
    const { calls } = queueServer({ "PATCH /api/v1/posts/post-lunch special": () => json(moved) });
    renderQueue();
    await screen.findByText("weekend plans");
    fireEvent.click(within(screen.getAllByTestId("queue-post")[0]).getByRole("button", { name: "Reschedule" }));
    const field = within(screen.getByRole("dialog", { name: "Reschedule" })).getByLabelText(/^New date and time/);
    expect(field).toHaveValue("2026-03-04T12:15");
    fireEvent.change(field, { target: { value: "2026-03-08T10:00" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(callsTo(calls, "PATCH", "/api/v1/posts/post-lunch special")).toHaveLength(1));
    expect(callsTo(calls, "PATCH", "/api/v1/posts/post-lunch special")[0].body).toEqual({
      scheduled_at: "2026-03-08T10:00:00+01:00",
      time_zone: BERLIN,
    });
    await waitFor(() =>
      expect(screen.getAllByTestId("queue-post").map((li) => li.querySelector("p")?.textContent)).toEqual([
        "morning news",
        "weekend plans",
        "lunch special",
      ]),
    );
    expect(screen.getAllByRole("heading", { level: 2 })[0].textContent).toMatch(/^Tomorrow · /);
  });

  it("cancels a post after asking, and takes it out of the queue", async () => {
    const { calls } = queueServer({
      "POST /api/v1/jobs/job-morning news/cancel": () => json({ tasks: 1 }),
      "GET /api/v1/jobs/job-morning news": () => json({ ...tomorrow, status: "cancelled", editable: false }),
    });
    renderQueue();
    await screen.findByText("weekend plans");
    const row = screen.getByText("morning news").closest("li[data-testid='queue-post']") as HTMLElement;
    fireEvent.click(within(row).getByRole("button", { name: "Cancel" }));
    fireEvent.click(within(row).getByRole("button", { name: "Yes, cancel" }));
    expect(await screen.findByText("Done: this post will not be published.")).toBeInTheDocument();
    await waitFor(() => expect(screen.queryByText("morning news")).not.toBeInTheDocument());
    expect(callsTo(calls, "POST", "/api/v1/jobs/job-morning news/cancel")).toHaveLength(1);
    expect(screen.getAllByTestId("queue-post")).toHaveLength(2);
  });

  it("offers no Edit or Reschedule for a post already going out", async () => {
    fakeServer({ "GET /api/v1/posts": () => json({ posts: [{ ...soon, editable: false }], next_cursor: null }) });
    renderQueue();
    const row = (await screen.findByText("lunch special")).closest("li[data-testid='queue-post']") as HTMLElement;
    expect(within(row).getByText("Going out")).toBeInTheDocument();
    expect(within(row).queryByRole("link", { name: "Edit" })).not.toBeInTheDocument();
    expect(within(row).queryByRole("button", { name: "Reschedule" })).not.toBeInTheDocument();
  });

  it("says when nothing is scheduled", async () => {
    fakeServer({ "GET /api/v1/posts": () => json({ posts: [], next_cursor: null }) });
    renderQueue();
    expect(await screen.findByText("Nothing scheduled")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Write a post" })).toHaveAttribute("href", "/compose");
  });
});

describe("a long post in the queue", () => {
  it("is shortened, with more and less", async () => {
    const long = post(`${"line\n".repeat(6)}last line`, "2026-03-04T11:15:00Z");
    fakeServer({ "GET /api/v1/posts": () => json({ posts: [long], next_cursor: null }) });
    renderQueue();
    const more = await screen.findByRole("button", { name: "more" });
    const text = within(screen.getByTestId("queue-post")).getByTestId("post-text");
    expect(text).not.toHaveTextContent("last line");
    fireEvent.click(more);
    expect(text).toHaveTextContent("last line");
    expect(screen.getByRole("button", { name: "less" })).toHaveAttribute("aria-expanded", "true");
  });
});
