import { act, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { StrictMode, useEffect, useState } from "react";
import { Link, MemoryRouter, Route, Routes } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setCsrfToken } from "../api/client";
import { AuthProvider } from "../auth";
import { fakeServer, json, renderApp } from "../test-fetch";
import { Layout } from "./Layout";

const ada = { id: "u1", email: "ada@example.com", role: "user", email_verified: true };

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
});

function Page({ title }: { title: string }) {
  return (
    <>
      <h1>{title}</h1>
      <Link to="?page=2">Next page</Link> <Link to="/b">To B</Link> <Link to="/slow">To Slow</Link>{" "}
      <Link to="/a">To A</Link>
    </>
  );
}

let showSlowHeading: () => void = () => {};

/** A page whose heading comes once its data has loaded. */
function Slow() {
  const [loaded, setLoaded] = useState(false);
  useEffect(() => {
    showSlowHeading = () => setLoaded(true);
  }, []);
  return loaded ? <h1>Slow</h1> : <p>Loading…</p>;
}

function renderLayout(path: string) {
  fakeServer({ "GET /api/v1/me": () => json({ user: ada, csrf_token: "csrf-1" }) });
  return render(
    <StrictMode>
      <MemoryRouter initialEntries={[path]}>
        <AuthProvider>
          <Routes>
            <Route element={<Layout />}>
              <Route path="a" element={<Page title="A" />} />
              <Route path="b" element={<Page title="B" />} />
              <Route path="slow" element={<Slow />} />
            </Route>
          </Routes>
        </AuthProvider>
      </MemoryRouter>
    </StrictMode>,
  );
}

describe("focus after a navigation", () => {
  it("stays where it is on the app's first load", async () => {
    renderLayout("/a");
    await screen.findByText("ada@example.com");
    expect(screen.getByRole("heading", { name: "A" })).not.toHaveFocus();
    expect(document.body).toHaveFocus();
  });

  it("moves to the new page's heading", async () => {
    renderLayout("/a");
    await userEvent.click(await screen.findByRole("link", { name: "To B" }));
    const heading = await screen.findByRole("heading", { name: "B" });
    expect(heading).toHaveFocus();
    expect(heading).toHaveAttribute("tabindex", "-1");
    await userEvent.click(screen.getByRole("link", { name: "To A" }));
    expect(await screen.findByRole("heading", { name: "A" })).toHaveFocus();
  });

  it("does not move when only the query string changes", async () => {
    renderLayout("/a");
    const next = await screen.findByRole("link", { name: "Next page" });
    await userEvent.click(next);
    expect(next).toHaveFocus();
    expect(screen.getByRole("heading", { name: "A" })).not.toHaveFocus();
  });

  it("waits on <main> for a page's heading that comes once it has loaded", async () => {
    renderLayout("/a");
    await userEvent.click(await screen.findByRole("link", { name: "To Slow" }));
    expect(screen.getByRole("main")).toHaveFocus();
    act(() => showSlowHeading());
    await waitFor(() => expect(screen.getByRole("heading", { name: "Slow" })).toHaveFocus());
  });

  it("moves to the heading of the app's own pages from the main menu", async () => {
    fakeServer({
      "GET /api/v1/me": () => json({ user: ada, csrf_token: "csrf-1" }),
      "GET /api/v1/posts?limit=10": () => json({ posts: [], next_cursor: null }),
      "GET /api/v1/platforms": () => json({ platforms: [] }),
    });
    renderApp("/history");
    await screen.findByRole("heading", { name: "History" });
    expect(document.body).toHaveFocus();
    await userEvent.click(screen.getByRole("link", { name: "Dashboard" }));
    await waitFor(() => expect(screen.getByRole("heading", { name: "Your platforms" })).toHaveFocus());
    await userEvent.click(screen.getByRole("link", { name: "History" }));
    await waitFor(() => expect(screen.getByRole("heading", { name: "History" })).toHaveFocus());
  });
});

describe("the header", () => {
  it("links every page, shows the account's initial, and folds the menu on a narrow screen until asked", async () => {
    renderLayout("/a");
    await screen.findByText("ada@example.com");
    const menu = screen.getByRole("navigation", { name: "Main" });
    expect(Array.from(menu.querySelectorAll("a")).map((a) => a.textContent)).toEqual([
      "Dashboard",
      "Compose",
      "Queue",
      "Calendar",
      "Drafts",
      "History",
      "API docs",
      "Settings",
    ]);
    expect(screen.getByTestId("avatar")).toHaveTextContent(/^A$/);
    expect(screen.getByTestId("avatar")).toHaveAttribute("aria-hidden", "true");

    const toggle = screen.getByRole("button", { name: "Menu" });
    expect(toggle).toHaveAttribute("aria-controls", menu.id);
    expect(toggle).toHaveAttribute("aria-expanded", "false");
    // Folded: hidden below the md breakpoint (shown from there on).
    expect(menu).toHaveClass("hidden", "md:flex");
    await userEvent.click(toggle);
    expect(toggle).toHaveAttribute("aria-expanded", "true");
    expect(menu).toHaveClass("flex");
    expect(menu).not.toHaveClass("hidden");
    // Going to a page folds it again.
    await userEvent.click(screen.getByRole("link", { name: "To B" }));
    await screen.findByRole("heading", { name: "B" });
    expect(toggle).toHaveAttribute("aria-expanded", "false");
    expect(menu).toHaveClass("hidden");
  });
});
