import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter, Route, Routes, useLocation } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { apiError, callsTo, fakeServer, json, noContent, renderApp, type Answer } from "../test-fetch";
import { Drafts } from "./Drafts";

const D1 = "11111111-4d1b-4b7e-9a3c-0b6a8f1d2e3c";
const D2 = "22222222-4d1b-4b7e-9a3c-0b6a8f1d2e3c";

const draft = (id: string, fields: Record<string, unknown> = {}) => ({
  id,
  status: "draft",
  content: "",
  connection_ids: null,
  media_ids: [],
  scheduled_at: null,
  time_zone: null,
  options: {},
  variations: [],
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-02T09:00:00Z",
  ...fields,
});

const platforms = {
  platforms: [
    {
      id: "bluesky",
      name: "Bluesky",
      rules: { max_chars: 300 },
      state: "active",
      connections: [{ id: "b1", platform: "bluesky", handle: "ada.bsky.social", display_name: "Ada", status: "active" }],
    },
  ],
};

const spring = draft(D1, { content: "spring sale soon", connection_ids: ["b1"], scheduled_at: "2999-03-01T09:00:00Z", time_zone: "UTC" });
const empty = draft(D2, { media_ids: ["m1", "m2"] });

function Address() {
  const location = useLocation();
  return <p data-testid="address">{location.pathname + location.search}</p>;
}

function renderDrafts(answers: Record<string, Answer> = {}) {
  const calls = fakeServer({
    "GET /api/v1/drafts": () => json({ drafts: [spring, empty] }),
    "GET /api/v1/platforms": () => json(platforms),
    ...answers,
  });
  render(
    <MemoryRouter initialEntries={["/drafts"]}>
      <Routes>
        <Route path="/drafts" element={<Drafts />} />
        <Route path="*" element={<Address />} />
      </Routes>
    </MemoryRouter>,
  );
  return calls;
}

const card = (text: string | RegExp) => screen.getByText(text).closest("li[data-testid='draft']") as HTMLElement;

afterEach(() => vi.unstubAllGlobals());

describe("Drafts", () => {
  it("shortens a long draft, with more and less", async () => {
    const long = draft(D1, { content: `${"a thought that goes on ".repeat(15)}and ends here` });
    renderDrafts({ "GET /api/v1/drafts": () => json({ drafts: [long] }) });
    const more = await screen.findByRole("button", { name: "more" });
    expect(screen.getByTestId("post-text")).not.toHaveTextContent("and ends here");
    fireEvent.click(more);
    expect(screen.getByTestId("post-text")).toHaveTextContent("and ends here");
    fireEvent.click(screen.getByRole("button", { name: "less" }));
    expect(screen.getByTestId("post-text")).not.toHaveTextContent("and ends here");
  });

  it("lists the server's drafts with their accounts, time and attachments", async () => {
    renderDrafts();
    await screen.findByText("spring sale soon");
    const first = card("spring sale soon");
    await waitFor(() => expect(first).toHaveTextContent("Bluesky @ada.bsky.social"));
    expect(first).toHaveTextContent(`for ${new Date("2999-03-01T09:00:00Z").toLocaleString()} (UTC)`);
    expect(within(first).getByRole("link", { name: "Open" })).toHaveAttribute("href", `/compose?draft=${D1}`);
    // Its time is ahead: publishing it schedules it.
    expect(within(first).getByRole("button", { name: "Schedule" })).toBeInTheDocument();
    const second = card("No text yet");
    expect(second).toHaveTextContent("2 attachments");
    expect(second).toHaveTextContent("Every active account");
    expect(within(second).getByRole("button", { name: "Publish now" })).toBeInTheDocument();
  });

  it("publishes a draft and opens its status page", async () => {
    const calls = renderDrafts({ [`POST /api/v1/drafts/${D1}/publish`]: () => json({ post_id: "p1", job_id: "j1" }, 202) });
    await screen.findByText("spring sale soon");
    fireEvent.click(within(card("spring sale soon")).getByRole("button", { name: "Schedule" }));
    expect(await screen.findByTestId("address")).toHaveTextContent("/jobs/j1");
    expect(callsTo(calls, "POST", `/api/v1/drafts/${D1}/publish`)).toHaveLength(1);
  });

  it("shows a refused publish in the draft's card", async () => {
    renderDrafts({ [`POST /api/v1/drafts/${D2}/publish`]: () => apiError(422, "empty_content", "Write something to publish.") });
    await screen.findByText("No text yet");
    fireEvent.click(within(card("No text yet")).getByRole("button", { name: "Publish now" }));
    expect(await within(card("No text yet")).findByRole("alert")).toHaveTextContent("Write something to publish.");
    expect(within(card("spring sale soon")).queryByRole("alert")).not.toBeInTheDocument();
  });

  it("deletes a draft after asking", async () => {
    const calls = renderDrafts({ [`DELETE /api/v1/drafts/${D1}`]: noContent });
    await screen.findByText("spring sale soon");
    fireEvent.click(within(card("spring sale soon")).getByRole("button", { name: "Delete" }));
    const question = screen.getByRole("alertdialog", { name: "Delete this draft?" });
    fireEvent.click(within(question).getByRole("button", { name: "Keep it" }));
    expect(within(card("spring sale soon")).getByRole("button", { name: "Delete" })).toHaveFocus();
    expect(callsTo(calls, "DELETE", `/api/v1/drafts/${D1}`)).toHaveLength(0);

    fireEvent.click(within(card("spring sale soon")).getByRole("button", { name: "Delete" }));
    fireEvent.click(screen.getByRole("button", { name: "Yes, delete" }));
    await waitFor(() => expect(screen.queryByText("spring sale soon")).not.toBeInTheDocument());
    expect(screen.getByRole("status")).toHaveTextContent("Draft deleted.");
    expect(callsTo(calls, "DELETE", `/api/v1/drafts/${D1}`)).toHaveLength(1);
  });

  it("says how to make one when there is none, and is in the main menu", async () => {
    fakeServer({
      "GET /api/v1/me": () => json({ user: { id: "u1", email: "ada@example.com", role: "user", email_verified: true }, csrf_token: "x" }),
      "GET /api/v1/drafts": () => json({ drafts: [] }),
      "GET /api/v1/platforms": () => json({ platforms: [] }),
    });
    renderApp("/drafts");
    expect(await screen.findByText("No drafts")).toBeInTheDocument();
    const menu = screen.getByRole("navigation", { name: "Main" });
    expect(within(menu).getByRole("link", { name: "Drafts" })).toHaveAttribute("aria-current", "page");
  });
});
