import { act, render, screen } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { History } from "./History";
import { JobStatusPage } from "./JobStatus";

/** A stand-in EventSource: the test sends the server's events. */
class FakeEventSource {
  static CLOSED = 2;
  static opened: FakeEventSource[] = [];
  readyState = 1;
  onerror: (() => void) | null = null;
  private listeners: Record<string, ((e: MessageEvent) => void)[]> = {};

  constructor(public url: string) {
    FakeEventSource.opened.push(this);
  }

  addEventListener(type: string, listener: (e: MessageEvent) => void) {
    (this.listeners[type] ??= []).push(listener);
  }

  close() {
    this.readyState = FakeEventSource.CLOSED;
  }

  emit(type: string, data: unknown) {
    for (const listener of this.listeners[type] ?? []) listener(new MessageEvent(type, { data: JSON.stringify(data) }));
  }
}

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
  job_id: "j1",
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

afterEach(() => {
  vi.unstubAllGlobals();
  FakeEventSource.opened = [];
});

describe("the tasks of a post", () => {
  it("name each task's room beside its account on the status page", async () => {
    vi.stubGlobal("EventSource", FakeEventSource);
    render(
      <MemoryRouter initialEntries={["/jobs/j1"]}>
        <Routes>
          <Route path="/jobs/:id" element={<JobStatusPage />} />
        </Routes>
      </MemoryRouter>,
    );
    expect(FakeEventSource.opened[0].url).toBe("/api/v1/jobs/j1/events");
    act(() => FakeEventSource.opened[0].emit("snapshot", job));
    const tasks = await screen.findAllByTestId("task");
    expect(tasks).toHaveLength(3);
    expect(tasks[0]).toHaveTextContent("matrix @alice:localhost · Announcements");
    expect(tasks[1]).toHaveTextContent("matrix @alice:localhost · Random");
    expect(tasks[2]).toHaveTextContent(/^bluesky @ada\.test/);
  });

  it("name each task's room in the history", async () => {
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
        /matrix @alice:localhost · Announcements, matrix @alice:localhost · Random, bluesky @ada\.test$/,
      ),
    ).toBeInTheDocument();
  });
});
