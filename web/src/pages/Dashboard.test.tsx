import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Dashboard } from "./Dashboard";

const json = (body: unknown, status = 200) =>
  Promise.resolve(new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } }));

const bluesky = (connections: unknown[]) => ({
  platforms: [
    {
      id: "bluesky",
      name: "Bluesky",
      connect: "credentials",
      rules: { max_chars: 300, unit: "graphemes" },
      state: connections.length ? "active" : "not_connected",
      connections,
    },
  ],
});

afterEach(() => vi.unstubAllGlobals());

describe("Dashboard", () => {
  it("offers Bluesky's own sign-in first and an app password as a second way", async () => {
    const fetch = vi.fn().mockImplementation((url: string, init?: RequestInit) => {
      if (String(url).endsWith("/authorize") && init?.method === "POST") {
        return json({ authorize_url: "http://localhost:2583/oauth/authorize?request_uri=urn%3Ax" });
      }
      const list = bluesky([]);
      list.platforms[0] = { ...list.platforms[0], connect: "redirect", connect_with: ["redirect", "credentials"] } as never;
      return json(list);
    });
    vi.stubGlobal("fetch", fetch);
    const assign = vi.fn();
    vi.stubGlobal("location", { ...window.location, assign });
    render(
      <MemoryRouter>
        <Dashboard />
      </MemoryRouter>,
    );
    fireEvent.click(await screen.findByRole("button", { name: "Use an app password" }));
    expect(screen.getByLabelText("App password")).toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: "Connect Bluesky" }));
    await waitFor(() =>
      expect(fetch.mock.calls.some(([url]) => String(url).endsWith("/api/v1/connections/bluesky/authorize"))).toBe(true),
    );
  });

  it("connects a credentials platform with a handle and an app password", async () => {
    const account = { id: "c1", platform: "bluesky", handle: "ada.test", display_name: "ada.test", status: "active" };
    let connected = false;
    const fetch = vi.fn().mockImplementation((url: string) => {
      if (String(url).endsWith("/sign-in")) {
        connected = true;
        return json(account, 201);
      }
      return json(bluesky(connected ? [account] : []));
    });
    vi.stubGlobal("fetch", fetch);
    render(
      <MemoryRouter>
        <Dashboard />
      </MemoryRouter>,
    );
    fireEvent.click(await screen.findByRole("button", { name: "Connect Bluesky" }));
    fireEvent.change(screen.getByLabelText("Handle"), { target: { value: " ada.test " } });
    fireEvent.change(screen.getByLabelText("App password"), { target: { value: "abcd-efgh-ijkl-mnop" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    await waitFor(() => expect(screen.getByText("Active")).toBeInTheDocument());
    const signIn = fetch.mock.calls.find(([url]) => String(url).endsWith("/api/v1/connections/bluesky/sign-in"));
    expect(signIn).toBeTruthy();
    expect(JSON.parse(String(signIn?.[1]?.body))).toEqual({ identifier: "ada.test", password: "abcd-efgh-ijkl-mnop" });
    expect(screen.queryByLabelText("App password")).not.toBeInTheDocument();
  });

  it("shows the platform's refusal and keeps the form", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn().mockImplementation((url: string) =>
        String(url).endsWith("/sign-in")
          ? json({ error: { code: "oauth_exchange_failed", message: "Bluesky refused the handle or app password" } }, 400)
          : json(bluesky([])),
      ),
    );
    render(
      <MemoryRouter>
        <Dashboard />
      </MemoryRouter>,
    );
    fireEvent.click(await screen.findByRole("button", { name: "Connect Bluesky" }));
    fireEvent.change(screen.getByLabelText("Handle"), { target: { value: "ada.test" } });
    fireEvent.change(screen.getByLabelText("App password"), { target: { value: "wrong" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText("Bluesky refused the handle or app password")).toBeInTheDocument();
    expect(screen.getByLabelText("App password")).toBeInTheDocument();
  });
});
