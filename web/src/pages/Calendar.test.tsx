import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter, Route, Routes, useLocation } from "react-router-dom";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { apiError, callsTo, fakeServer, json, type Answer } from "../test-fetch";
import { Calendar } from "./Calendar";

const BERLIN = "Europe/Berlin";

const post = (id: string, fields: Record<string, unknown>) => ({
  job_id: `job-${id}`,
  post_id: `post-${id}`,
  status: "pending",
  content: id,
  scheduled_at: null,
  time_zone: BERLIN,
  created_at: "2026-02-01T00:00:00Z",
  updated_at: "2026-02-01T00:00:00Z",
  completed_at: null,
  tasks: [
    {
      id: `t-${id}`,
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
    },
  ],
  media_ids: [],
  options: {},
  variations: [],
  editable: false,
  ...fields,
});

// 09:30 in Berlin on Friday 6 March.
const sale = post("spring sale", { scheduled_at: "2026-03-06T08:30:00Z", editable: true });
// 23:30 UTC on the 4th is half past midnight on the 5th in Berlin.
const owl = post("night owl", { scheduled_at: "2026-03-04T23:30:00Z", editable: true });
const published = post("went out", { status: "succeeded", created_at: "2026-03-02T12:00:00Z" });
const failed = post("did not", { status: "failed", scheduled_at: "2026-03-03T07:00:00Z" });

function Address() {
  const location = useLocation();
  return <p data-testid="address">{location.pathname + location.search}</p>;
}

function renderCalendar(path = "/calendar") {
  return render(
    <MemoryRouter initialEntries={[path]}>
      <Routes>
        <Route
          path="/calendar"
          element={
            <>
              <Calendar zone={BERLIN} />
              <Address />
            </>
          }
        />
        <Route path="/jobs/:id" element={<p>job page</p>} />
      </Routes>
    </MemoryRouter>,
  );
}

/** Two pages of posts for any range (the second after cursor `c2`), and whatever else is given. */
function calendarServer(posts: unknown[][] = [[published, failed, owl], [sale]], answers: Record<string, Answer> = {}) {
  const queries: URLSearchParams[] = [];
  const calls = fakeServer({
    "GET /api/v1/posts": (_body, url) => {
      queries.push(url.searchParams);
      const page = url.searchParams.get("cursor") === "c2" ? 1 : 0;
      return json({ posts: posts[page] ?? [], next_cursor: page + 1 < posts.length ? "c2" : null });
    },
    ...answers,
  });
  return { calls, queries };
}

const dataTransfer = () => ({ setData: vi.fn(), getData: vi.fn(), effectAllowed: "", dropEffect: "" });

function drag(item: HTMLElement, target: HTMLElement) {
  const data = dataTransfer();
  fireEvent.dragStart(item, { dataTransfer: data });
  fireEvent.dragOver(target, { dataTransfer: data });
  fireEvent.drop(target, { dataTransfer: data });
}

const item = (text: string) => screen.getByText(text).closest("li") as HTMLElement;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date("2026-03-04T10:00:00Z"));
});

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("the calendar's month", () => {
  it("asks for the grid's range in post time order, page after page, and places each post on its day in the zone", async () => {
    const { queries } = calendarServer();
    renderCalendar();
    expect(screen.getByTestId("calendar-zone")).toHaveTextContent("Times in Europe/Berlin");
    expect(screen.getByTestId("calendar-period")).toHaveTextContent("March 2026");
    await screen.findByText("spring sale");
    // March 2026 is shown Monday 23 February to Sunday 5 April, midnight to midnight in Berlin.
    expect(Object.fromEntries(queries[0])).toEqual({
      limit: "100",
      order: "time",
      from: "2026-02-22T23:00:00Z",
      to: "2026-04-05T22:00:00Z",
    });
    expect(queries[queries.length - 1].get("cursor")).toBe("c2");

    const fifth = screen.getByTestId("day-2026-03-05");
    expect(within(fifth).getByText("night owl")).toBeInTheDocument();
    expect(within(fifth).getByText("00:30")).toBeInTheDocument();
    const sixth = within(screen.getByTestId("day-2026-03-06")).getByTestId("calendar-post");
    expect(sixth).toHaveTextContent("09:30· Scheduled");
    expect(sixth).toHaveClass("border-sky-500");
    // A post that went out at once is on the day it was written.
    const second = within(screen.getByTestId("day-2026-03-02")).getByTestId("calendar-post");
    expect(second).toHaveTextContent("13:00· Published");
    expect(second).toHaveClass("border-green-600");
    expect(within(screen.getByTestId("day-2026-03-03")).getByTestId("calendar-post")).toHaveClass("border-red-600");
    expect(within(second).getByRole("link", { name: "went out" })).toHaveAttribute("href", "/jobs/job-went out");

    // Only a post nothing of which has gone out can be moved.
    expect(sixth).toHaveAttribute("draggable", "true");
    expect(within(sixth).getByRole("button", { name: "Reschedule" })).toBeInTheDocument();
    expect(second).toHaveAttribute("draggable", "false");
    expect(within(second).queryByRole("button", { name: "Reschedule" })).not.toBeInTheDocument();
    expect(screen.getByTestId("day-2026-03-04").querySelector("[aria-current='date']")).not.toBeNull();
  });

  it("moves a dragged post to another day at the same time of day", async () => {
    const moved = { ...sale, scheduled_at: "2026-03-10T08:30:00Z" };
    const { calls } = calendarServer(undefined, { "PATCH /api/v1/posts/post-spring sale": () => json(moved) });
    renderCalendar();
    await screen.findByText("spring sale");
    drag(item("spring sale"), screen.getByTestId("day-2026-03-10"));
    await waitFor(() => expect(callsTo(calls, "PATCH", "/api/v1/posts/post-spring sale")).toHaveLength(1));
    expect(callsTo(calls, "PATCH", "/api/v1/posts/post-spring sale")[0].body).toEqual({
      scheduled_at: "2026-03-10T09:30:00+01:00",
      time_zone: BERLIN,
    });
    await waitFor(() => expect(within(screen.getByTestId("day-2026-03-10")).getByText("spring sale")).toBeInTheDocument());
    expect(within(screen.getByTestId("day-2026-03-06")).queryByText("spring sale")).not.toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent("Rescheduled to");
  });

  it("moves nothing that cannot move: a post that went out, or one dropped in the past", async () => {
    const { calls } = calendarServer();
    renderCalendar();
    await screen.findByText("spring sale");
    drag(item("went out"), screen.getByTestId("day-2026-03-12"));
    // Today at 09:30 in Berlin is already past (it is 11:00 there).
    drag(item("spring sale"), screen.getByTestId("day-2026-03-04"));
    expect(await screen.findByRole("alert")).toHaveTextContent("Pick a time in the future.");
    expect(calls.filter((c) => c.method === "PATCH")).toHaveLength(0);
    expect(within(screen.getByTestId("day-2026-03-06")).getByText("spring sale")).toBeInTheDocument();
  });

  it("shows the server's refusal of a move and the post as it now is", async () => {
    const { calls } = calendarServer(undefined, {
      "PATCH /api/v1/posts/post-night owl": () =>
        apiError(409, "already_started", "Manch @ada has already started; the post cannot move."),
      "GET /api/v1/jobs/job-night owl": () => json({ ...owl, status: "running", editable: false }),
    });
    renderCalendar();
    await screen.findByText("night owl");
    drag(item("night owl"), screen.getByTestId("day-2026-03-20"));
    expect(await screen.findByRole("alert")).toHaveTextContent("Manch @ada has already started; the post cannot move.");
    await waitFor(() => expect(item("night owl")).toHaveAttribute("draggable", "false"));
    expect(callsTo(calls, "GET", "/api/v1/jobs/job-night owl")).toHaveLength(1);
  });

  it("reschedules from the keyboard with the Reschedule form", async () => {
    const moved = { ...sale, scheduled_at: "2026-03-07T17:45:00Z" };
    const { calls } = calendarServer(undefined, { "PATCH /api/v1/posts/post-spring sale": () => json(moved) });
    renderCalendar();
    await screen.findByText("spring sale");
    const button = within(item("spring sale")).getByRole("button", { name: "Reschedule" });
    button.focus();
    fireEvent.click(button);
    const dialog = screen.getByRole("dialog", { name: "Reschedule" });
    const field = within(dialog).getByLabelText("New date and time (Europe/Berlin)");
    expect(field).toHaveValue("2026-03-06T09:30");
    expect(field).toHaveFocus();
    fireEvent.change(field, { target: { value: "2026-03-07T18:45" } });
    fireEvent.submit(field.closest("form")!);
    await waitFor(() => expect(callsTo(calls, "PATCH", "/api/v1/posts/post-spring sale")).toHaveLength(1));
    expect(callsTo(calls, "PATCH", "/api/v1/posts/post-spring sale")[0].body).toEqual({
      scheduled_at: "2026-03-07T18:45:00+01:00",
      time_zone: BERLIN,
    });
    const seventh = screen.getByTestId("day-2026-03-07");
    await waitFor(() => expect(within(seventh).getByText("spring sale")).toBeInTheDocument());
    expect(within(seventh).getByText("18:45")).toBeInTheDocument();
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
  });

  it("goes to the next and previous month and back to today, keeping them in the address", async () => {
    const { queries } = calendarServer([[]]);
    renderCalendar();
    await waitFor(() => expect(queries).toHaveLength(1));
    fireEvent.click(screen.getByRole("button", { name: "Next month" }));
    expect(screen.getByTestId("calendar-period")).toHaveTextContent("April 2026");
    expect(screen.getByTestId("address")).toHaveTextContent("/calendar?view=month&date=2026-04-04");
    // April 2026 starts on a Wednesday: its grid starts on Monday 30 March (summer time by then).
    await waitFor(() => expect(queries[queries.length - 1].get("from")).toBe("2026-03-29T22:00:00Z"));
    fireEvent.click(screen.getByRole("button", { name: "Previous month" }));
    fireEvent.click(screen.getByRole("button", { name: "Previous month" }));
    expect(screen.getByTestId("calendar-period")).toHaveTextContent("February 2026");
    fireEvent.click(screen.getByRole("button", { name: "Today" }));
    expect(screen.getByTestId("calendar-period")).toHaveTextContent("March 2026");
    expect(screen.getByTestId("address")).toHaveTextContent("date=2026-03-04");
  });
});

describe("the calendar's week", () => {
  const friday = post("before the clocks change", { scheduled_at: "2026-03-27T08:30:00Z", editable: true });

  it("places posts at their hour and moves a dragged one to a day and hour, keeping its minutes", async () => {
    const moved = { ...friday, scheduled_at: "2026-03-29T12:30:00Z" };
    const { calls, queries } = calendarServer([[friday]], {
      "PATCH /api/v1/posts/post-before the clocks change": () => json(moved),
    });
    renderCalendar("/calendar?view=week&date=2026-03-27");
    expect(screen.getByRole("button", { name: "Week" })).toHaveAttribute("aria-pressed", "true");
    await screen.findByText("before the clocks change");
    expect(Object.fromEntries(queries[0])).toMatchObject({ from: "2026-03-22T23:00:00Z", to: "2026-03-29T22:00:00Z" });
    expect(within(screen.getByTestId("slot-2026-03-27T09")).getByText("before the clocks change")).toBeInTheDocument();

    // Sunday 29 March is summer time in Berlin: 14:30 there is +02:00.
    drag(item("before the clocks change"), screen.getByTestId("slot-2026-03-29T14"));
    await waitFor(() => expect(calls.filter((c) => c.method === "PATCH")).toHaveLength(1));
    expect(calls.find((c) => c.method === "PATCH")!.body).toEqual({
      scheduled_at: "2026-03-29T14:30:00+02:00",
      time_zone: BERLIN,
    });
    await waitFor(() =>
      expect(within(screen.getByTestId("slot-2026-03-29T14")).getByText("before the clocks change")).toBeInTheDocument(),
    );
  });

  it("steps a week at a time", async () => {
    calendarServer([[]]);
    renderCalendar("/calendar?view=week&date=2026-03-04");
    fireEvent.click(screen.getByRole("button", { name: "Next week" }));
    expect(screen.getByTestId("address")).toHaveTextContent("/calendar?view=week&date=2026-03-11");
    fireEvent.click(screen.getByRole("button", { name: "Month" }));
    expect(screen.getByTestId("address")).toHaveTextContent("/calendar?view=month&date=2026-03-11");
    expect(screen.getByRole("button", { name: "Month" })).toHaveAttribute("aria-pressed", "true");
  });
});
