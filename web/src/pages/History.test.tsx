import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter, Route, Routes, useLocation } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { browserTimeZone } from "../lib/schemas";
import { isoSeconds, startOfDay } from "../lib/zoned";
import { fakeServer, json } from "../test-fetch";
import { History, filtersOf } from "./History";

const post = (content: string) => ({
  job_id: `job-${content}`,
  post_id: `post-${content}`,
  status: "failed",
  content,
  scheduled_at: null,
  time_zone: null,
  created_at: "2026-03-02T10:00:00Z",
  updated_at: "2026-03-02T10:00:00Z",
  completed_at: null,
  tasks: [],
  media_ids: [],
  options: {},
  variations: [],
  editable: false,
});

function Address() {
  const location = useLocation();
  return <p data-testid="address">{location.pathname + location.search}</p>;
}

function renderHistory(path: string) {
  return render(
    <MemoryRouter initialEntries={[path]}>
      <Routes>
        <Route
          path="/history"
          element={
            <>
              <History />
              <Address />
            </>
          }
        />
      </Routes>
    </MemoryRouter>,
  );
}

/** Answers the list with `posts` and records each query the page asked. */
function listServer(posts: unknown[] = [post("hello world")]) {
  const queries: URLSearchParams[] = [];
  fakeServer({
    "GET /api/v1/posts": (_body, url) => {
      queries.push(url.searchParams);
      return json({ posts, next_cursor: null });
    },
  });
  return queries;
}

afterEach(() => vi.unstubAllGlobals());

describe("the history's filters", () => {
  it("read the address, show in the form, and go to the server as its query", async () => {
    const zone = browserTimeZone();
    const queries = listServer();
    renderHistory("/history?status=failed&platform=mastodon&q=hello&from=2026-03-01&to=2026-03-31");
    await screen.findByText("hello world");
    expect(screen.getByLabelText("Status")).toHaveValue("failed");
    expect(screen.getByLabelText("Platform")).toHaveValue("mastodon");
    expect(screen.getByLabelText("Text")).toHaveValue("hello");
    expect(screen.getByLabelText("From")).toHaveValue("2026-03-01");
    expect(screen.getByLabelText("To")).toHaveValue("2026-03-31");
    const last = queries[queries.length - 1];
    expect(Object.fromEntries(last)).toEqual({
      limit: "10",
      status: "failed",
      platform: "mastodon",
      q: "hello",
      from: isoSeconds(startOfDay("2026-03-01", zone)),
      // The last day is included: up to the start of the next.
      to: isoSeconds(startOfDay("2026-04-01", zone)),
    });
  });

  it("change the address and the list as they are set, and Clear filters drops them all", async () => {
    const queries = listServer();
    renderHistory("/history");
    await screen.findByText("hello world");
    expect(Object.fromEntries(queries[queries.length - 1])).toEqual({ limit: "10" });
    expect(screen.queryByRole("button", { name: "Clear filters" })).not.toBeInTheDocument();

    fireEvent.change(screen.getByLabelText("Status"), { target: { value: "cancelled" } });
    await waitFor(() => expect(queries[queries.length - 1].get("status")).toBe("cancelled"));
    expect(screen.getByTestId("address")).toHaveTextContent("/history?status=cancelled");

    // The text filters once searched, not at every key.
    fireEvent.change(screen.getByLabelText("Text"), { target: { value: " spring sale " } });
    expect(queries[queries.length - 1].get("q")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Search" }));
    await waitFor(() => expect(queries[queries.length - 1].get("q")).toBe("spring sale"));
    expect(screen.getByTestId("address")).toHaveTextContent("/history?status=cancelled&q=spring+sale");

    fireEvent.change(screen.getByLabelText("Platform"), { target: { value: "bluesky" } });
    await waitFor(() => expect(queries[queries.length - 1].get("platform")).toBe("bluesky"));

    fireEvent.click(screen.getByRole("button", { name: "Clear filters" }));
    await waitFor(() => expect(Object.fromEntries(queries[queries.length - 1])).toEqual({ limit: "10" }));
    expect(screen.getByTestId("address")).toHaveTextContent(/^\/history$/);
    expect(screen.getByLabelText("Text")).toHaveValue("");
  });

  it("say when nothing matches, with a way back to every post", async () => {
    listServer([]);
    renderHistory("/history?status=missed");
    expect(await screen.findByText("No posts match these filters")).toBeInTheDocument();
    expect(screen.queryByText("Nothing published yet")).not.toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: "Show every post" }));
    await waitFor(() => expect(screen.getByTestId("address")).toHaveTextContent(/^\/history$/));
    expect(await screen.findByText("Nothing published yet")).toBeInTheDocument();
  });
});

describe("filtersOf", () => {
  it("leaves out what is not a filter the API knows", () => {
    const params = new URLSearchParams("status=lost&platform=myspace&from=2026-02-31&to=yesterday&q=%20%20");
    expect(filtersOf(params, "Europe/Berlin")).toEqual({});
  });

  it("takes whole days in the zone", () => {
    const params = new URLSearchParams("from=2026-07-01&to=2026-07-01");
    expect(filtersOf(params, "Europe/Berlin")).toEqual({ from: "2026-06-30T22:00:00Z", to: "2026-07-01T22:00:00Z" });
  });
});

describe("a long post in the history", () => {
  it("is shortened, with more to read the rest in place and less to fold it again", async () => {
    const long = `${"All the news that fits. ".repeat(20)}The end.`;
    listServer([post(long)]);
    renderHistory("/history");
    const more = await screen.findByRole("button", { name: "more" });
    const text = screen.getByTestId("post-text");
    expect(text.textContent).toMatch(/…$/);
    expect(text).not.toHaveTextContent("The end.");
    expect(more).toHaveAttribute("aria-expanded", "false");
    fireEvent.click(more);
    expect(text).toHaveTextContent(long);
    fireEvent.click(screen.getByRole("button", { name: "less" }));
    expect(text).not.toHaveTextContent("The end.");
  });

  it("is not, when short", async () => {
    listServer();
    renderHistory("/history");
    await screen.findByText("hello world");
    expect(screen.queryByRole("button", { name: "more" })).not.toBeInTheDocument();
  });
});
