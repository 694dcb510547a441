import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter, useLocation, useNavigationType } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setCsrfToken } from "../api/client";
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

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
});

describe("Dashboard", () => {
  it("shows each account with a round avatar of its initial and its display name", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn().mockImplementation(() =>
        json(
          bluesky([
            { id: "c1", platform: "bluesky", handle: "ada.test", display_name: "Lovelace, Ada", status: "active" },
            { id: "c2", platform: "bluesky", handle: "bob.test", display_name: "bob.test", status: "active" },
          ]),
        ),
      ),
    );
    render(
      <MemoryRouter>
        <Dashboard />
      </MemoryRouter>,
    );
    const accounts = within(await screen.findByRole("list", { name: "Bluesky accounts" })).getAllByRole("listitem");
    expect(accounts[0]).toHaveTextContent(/^LLovelace, Ada @ada\.test/);
    expect(within(accounts[0]).getByTestId("display-name-c1")).toHaveClass("font-medium");
    const [first, second] = accounts.map((a) => within(a).getByTestId("account-avatar"));
    expect(first).toHaveTextContent("L");
    expect(first).toHaveClass("rounded-full");
    expect(first).toHaveAttribute("aria-hidden", "true");
    // No display name beyond the handle: the handle stands alone, and gives the letter.
    expect(second).toHaveTextContent("B");
    expect(within(accounts[1]).queryByTestId("display-name-c2")).not.toBeInTheDocument();
  });

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

  describe("a platform that asks for the server", () => {
    const mastodon = (connections: unknown[] = []) => ({
      platforms: [
        {
          id: "mastodon",
          name: "Mastodon",
          connect: "redirect",
          connect_with: ["redirect"],
          asks_for_server: true,
          rules: { max_chars: 500, unit: "graphemes", url_weight: 23 },
          state: connections.length ? "active" : "not_connected",
          connections,
        },
      ],
    });

    function renderDashboard(authorize: (body: unknown) => Promise<Response>, connections: unknown[] = []) {
      const fetch = vi.fn().mockImplementation((url: string, init?: RequestInit) =>
        String(url).endsWith("/authorize") && init?.method === "POST"
          ? authorize(typeof init.body === "string" ? JSON.parse(init.body) : undefined)
          : json(mastodon(connections)),
      );
      vi.stubGlobal("fetch", fetch);
      const assign = vi.fn();
      vi.stubGlobal("location", { ...window.location, assign });
      render(
        <MemoryRouter>
          <Dashboard />
        </MemoryRouter>,
      );
      return { fetch, assign };
    }

    it("asks for the instance, sends it as `server` and goes to its sign-in page", async () => {
      const { fetch, assign } = renderDashboard(() =>
        json({ authorize_url: "https://fosstodon.org/oauth/authorize?client_id=x" }),
      );
      fireEvent.click(await screen.findByRole("button", { name: "Connect Mastodon" }));
      // Nothing is sent until the user names their server.
      expect(fetch.mock.calls.some(([url]) => String(url).endsWith("/authorize"))).toBe(false);
      const instance = screen.getByLabelText("Your instance");
      expect(instance).toHaveAttribute("placeholder", "mastodon.social");
      expect(instance).toHaveAccessibleDescription("The server your account is on, e.g. mastodon.social or fosstodon.org");
      expect(screen.getByRole("button", { name: "Continue" })).toBeDisabled();
      fireEvent.change(instance, { target: { value: " fosstodon.org " } });
      fireEvent.click(screen.getByRole("button", { name: "Continue to fosstodon.org" }));
      await waitFor(() => expect(assign).toHaveBeenCalledWith("https://fosstodon.org/oauth/authorize?client_id=x"));
      const call = fetch.mock.calls.find(([url]) => String(url).endsWith("/api/v1/connections/mastodon/authorize"));
      expect(JSON.parse(String(call?.[1]?.body))).toEqual({ server: "fosstodon.org" });
    });

    it("shows the server's refusal and keeps the form", async () => {
      const { assign } = renderDashboard(() =>
        json({ error: { code: "invalid_server", message: "no Mastodon server answers at nope.invalid" } }, 422),
      );
      fireEvent.click(await screen.findByRole("button", { name: "Connect Mastodon" }));
      fireEvent.change(screen.getByLabelText("Your instance"), { target: { value: "nope.invalid" } });
      fireEvent.click(screen.getByRole("button", { name: "Continue to nope.invalid" }));
      expect(await screen.findByRole("alert")).toHaveTextContent("no Mastodon server answers at nope.invalid");
      expect(screen.getByLabelText("Your instance")).toHaveValue("nope.invalid");
      expect(screen.getByRole("button", { name: "Continue to nope.invalid" })).toBeEnabled();
      expect(assign).not.toHaveBeenCalled();

      fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
      expect(screen.queryByLabelText("Your instance")).not.toBeInTheDocument();
    });

    it("asks again for another account, and shows each account's server", async () => {
      const hal = {
        id: "c9",
        platform: "mastodon",
        handle: "hal@fosstodon.org",
        display_name: "Hal",
        status: "active",
        service_url: "https://fosstodon.org",
        rules: { max_chars: 60, unit: "graphemes", url_weight: 23, media: {} },
      };
      renderDashboard(() => json({ authorize_url: "https://x" }), [hal]);
      const accounts = await screen.findByRole("list", { name: "Mastodon accounts" });
      expect(accounts).toHaveTextContent("@hal@fosstodon.org on fosstodon.org");
      expect(accounts).toHaveTextContent("posts up to 60 characters");
      fireEvent.click(screen.getByRole("button", { name: "Connect another account" }));
      expect(screen.getByLabelText("Your instance")).toBeInTheDocument();
    });
  });

  it("does not send a body when the platform has one server", async () => {
    const fetch = vi.fn().mockImplementation((url: string, init?: RequestInit) =>
      String(url).endsWith("/authorize") && init?.method === "POST"
        ? json({ authorize_url: "http://manch.test/authorize" })
        : json({
            platforms: [
              { id: "manch", name: "Manch", connect: "redirect", rules: { max_chars: 500 }, state: "not_connected", connections: [] },
            ],
          }),
    );
    vi.stubGlobal("fetch", fetch);
    const assign = vi.fn();
    vi.stubGlobal("location", { ...window.location, assign });
    render(
      <MemoryRouter>
        <Dashboard />
      </MemoryRouter>,
    );
    fireEvent.click(await screen.findByRole("button", { name: "Connect Manch" }));
    await waitFor(() => expect(assign).toHaveBeenCalledWith("http://manch.test/authorize"));
    const call = fetch.mock.calls.find(([url]) => String(url).endsWith("/api/v1/connections/manch/authorize"));
    expect(call?.[1]?.body).toBeUndefined();
  });

  describe("before the email address is verified", () => {
    const unverified = () =>
      json(
        {
          error: {
            code: "email_unverified",
            message: "Verify your email address before connecting a platform: open the link we sent you.",
          },
        },
        403,
      );

    it("shows why a redirect platform cannot be connected yet", async () => {
      vi.stubGlobal(
        "fetch",
        vi.fn().mockImplementation((url: string, init?: RequestInit) =>
          String(url).endsWith("/authorize") && init?.method === "POST"
            ? unverified()
            : json({
                platforms: [
                  { id: "manch", name: "Manch", connect: "redirect", rules: { max_chars: 500 }, state: "not_connected", connections: [] },
                ],
              }),
        ),
      );
      const assign = vi.fn();
      vi.stubGlobal("location", { ...window.location, assign });
      render(
        <MemoryRouter>
          <Dashboard />
        </MemoryRouter>,
      );
      fireEvent.click(await screen.findByRole("button", { name: "Connect Manch" }));
      expect(await screen.findByRole("alert")).toHaveTextContent(
        "Verify your email address before connecting a platform: open the link we sent you.",
      );
      expect(assign).not.toHaveBeenCalled();
    });

    it("shows why a credentials platform cannot be connected yet, keeping the form", async () => {
      vi.stubGlobal(
        "fetch",
        vi.fn().mockImplementation((url: string) => (String(url).endsWith("/sign-in") ? unverified() : json(bluesky([])))),
      );
      render(
        <MemoryRouter>
          <Dashboard />
        </MemoryRouter>,
      );
      fireEvent.click(await screen.findByRole("button", { name: "Connect Bluesky" }));
      fireEvent.change(screen.getByLabelText("Handle"), { target: { value: "ada.test" } });
      fireEvent.change(screen.getByLabelText("App password"), { target: { value: "abcd-efgh-ijkl-mnop" } });
      fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
      expect(await screen.findByRole("alert")).toHaveTextContent("Verify your email address before connecting a platform");
      expect(screen.getByLabelText("App password")).toBeInTheDocument();
    });
  });

  describe("Matrix", () => {
    const matrix = (connections: unknown[] = []) => ({
      platforms: [
        {
          id: "matrix",
          name: "Matrix",
          connect: "credentials",
          connect_with: ["credentials"],
          asks_for_server: false,
          sign_in_names_server: true,
          has_destinations: true,
          rules: { max_chars: 30000, unit: "characters", max_bytes: 30000 },
          state: connections.length ? "active" : "not_connected",
          connections,
        },
      ],
    });
    const room = (id: string, name: string, selected = false) => ({ id, name, selected });
    const alice = (destinations: unknown[]) => ({
      id: "m1",
      platform: "matrix",
      handle: "@alice:localhost",
      display_name: "Alice",
      status: "active",
      service_url: "http://localhost:8008",
      ...(destinations.length > 0 ? { destinations } : {}),
    });

    /** The server: answers sign-in and room picks with `answer`, everything else with the platform list. */
    function renderMatrix(
      connections: unknown[],
      answer: (url: string, body: Record<string, unknown>) => Promise<Response> | undefined = () => undefined,
    ) {
      const calls: { method: string; url: string; body: Record<string, unknown>; headers: Headers }[] = [];
      let list = matrix(connections);
      const fetch = vi.fn().mockImplementation((url: string, init?: RequestInit) => {
        const method = init?.method ?? "GET";
        const body = typeof init?.body === "string" ? JSON.parse(init.body) : undefined;
        calls.push({ method, url: String(url), body, headers: new Headers(init?.headers) });
        if (method === "POST" && String(url).endsWith("/sign-in")) {
          const account = alice([room("!a:localhost", "Announcements", true)]);
          list = matrix([account]);
          return answer(String(url), body) ?? json(account, 201);
        }
        if (method === "PUT") {
          return answer(String(url), body) ?? json(alice(
            [room("!a:localhost", "Announcements"), room("!r:localhost", "Random"), room("!d:localhost", "Dev")].map(
              (r) => ({ ...r, selected: (body.selected as string[]).includes(r.id) }),
            ),
          ));
        }
        return json(list);
      });
      vi.stubGlobal("fetch", fetch);
      render(
        <MemoryRouter>
          <Dashboard />
        </MemoryRouter>,
      );
      return calls;
    }

    it("signs in with a Matrix ID, sending the homeserver only when one is named", async () => {
      const calls = renderMatrix([]);
      fireEvent.click(await screen.findByRole("button", { name: "Connect Matrix" }));
      const form = screen.getByRole("form", { name: "Sign in to Matrix" });
      expect(screen.getByLabelText("Matrix ID")).toHaveAttribute("placeholder", "@you:example.org");
      const homeserver = screen.getByLabelText("Homeserver (optional)");
      expect(homeserver).toHaveAttribute("placeholder", "matrix.example.org");
      expect(homeserver).not.toBeRequired();
      expect(homeserver).toHaveAccessibleDescription("Leave empty to find it from your Matrix ID");
      expect(screen.queryByLabelText("App password")).not.toBeInTheDocument();
      fireEvent.change(screen.getByLabelText("Matrix ID"), { target: { value: " @alice:localhost " } });
      fireEvent.change(screen.getByLabelText("Password"), { target: { value: "hunter2" } });
      fireEvent.click(within(form).getByRole("button", { name: "Sign in" }));
      expect(await screen.findByRole("list", { name: "Matrix accounts" })).toHaveTextContent("@alice:localhost");
      // One `@`: a Matrix ID has its own.
      expect(screen.queryByText(/@@alice/)).not.toBeInTheDocument();
      const first = calls.find((c) => c.url === "/api/v1/connections/matrix/sign-in");
      expect(first?.body).toEqual({ identifier: "@alice:localhost", password: "hunter2" });

      fireEvent.click(screen.getByRole("button", { name: "Connect another account" }));
      fireEvent.change(screen.getByLabelText("Matrix ID"), { target: { value: "@alice:localhost" } });
      fireEvent.change(screen.getByLabelText("Password"), { target: { value: "hunter2" } });
      fireEvent.change(screen.getByLabelText("Homeserver (optional)"), { target: { value: " matrix.example.org " } });
      fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
      await waitFor(() => expect(calls.filter((c) => c.url.endsWith("/sign-in"))).toHaveLength(2));
      expect(calls.filter((c) => c.url.endsWith("/sign-in"))[1].body).toEqual({
        identifier: "@alice:localhost",
        password: "hunter2",
        server: "matrix.example.org",
      });
    });

    it("shows the homeserver's refusal and keeps the form", async () => {
      renderMatrix([], () =>
        json({ error: { code: "invalid_server", message: "`nope` is not a homeserver address" } }, 422),
      );
      fireEvent.click(await screen.findByRole("button", { name: "Connect Matrix" }));
      fireEvent.change(screen.getByLabelText("Matrix ID"), { target: { value: "@alice:localhost" } });
      fireEvent.change(screen.getByLabelText("Password"), { target: { value: "hunter2" } });
      fireEvent.change(screen.getByLabelText("Homeserver (optional)"), { target: { value: "nope" } });
      fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
      expect(await screen.findByRole("alert")).toHaveTextContent("`nope` is not a homeserver address");
      expect(screen.getByLabelText("Homeserver (optional)")).toHaveValue("nope");
    });

    it("asks for a room until one is picked, and saves the rooms ticked", async () => {
      setCsrfToken("token-1");
      const calls = renderMatrix([
        alice([room("!a:localhost", "Announcements"), room("!r:localhost", "Random"), room("!d:localhost", "Dev")]),
      ]);
      const picker = await screen.findByRole("form", { name: "Rooms for @alice:localhost" });
      const notice = "Pick at least one room: posts to this account go to the rooms you pick.";
      expect(within(picker).getByText(notice)).toBeInTheDocument();
      const save = within(picker).getByRole("button", { name: "Save rooms" });
      expect(save).toBeDisabled();
      expect(within(picker).getByLabelText("Random")).toHaveAccessibleDescription("!r:localhost");

      // Ticked out of order; sent in the rooms' order.
      fireEvent.click(within(picker).getByLabelText("Dev"));
      fireEvent.click(within(picker).getByLabelText("Announcements"));
      fireEvent.click(save);
      expect(await within(picker).findByText("Saved.")).toBeInTheDocument();
      const put = calls.find((c) => c.method === "PUT");
      expect(put?.url).toBe("/api/v1/connections/m1/destinations");
      expect(put?.body).toEqual({ selected: ["!a:localhost", "!d:localhost"] });
      expect(put?.headers.get("X-CSRF-Token")).toBe("token-1");
      expect(within(picker).queryByText(notice)).not.toBeInTheDocument();
      expect(within(picker).getByLabelText("Announcements")).toBeChecked();
      expect(within(picker).getByLabelText("Random")).not.toBeChecked();
      expect(save).toBeDisabled();

      // Unpicking every room brings the notice back once saved.
      fireEvent.click(within(picker).getByLabelText("Dev"));
      fireEvent.click(within(picker).getByLabelText("Announcements"));
      fireEvent.click(save);
      expect(await within(picker).findByText(notice)).toBeInTheDocument();
      expect(calls.filter((c) => c.method === "PUT")[1].body).toEqual({ selected: [] });
    });

    it("shows the server's refusal of the rooms and keeps the ticks", async () => {
      renderMatrix([alice([room("!a:localhost", "Announcements")])], () =>
        json({ error: { code: "invalid_destination", message: "`!a:localhost` is not one of this account's rooms" } }, 422),
      );
      const picker = await screen.findByRole("form", { name: "Rooms for @alice:localhost" });
      fireEvent.click(within(picker).getByLabelText("Announcements"));
      fireEvent.click(within(picker).getByRole("button", { name: "Save rooms" }));
      expect(await within(picker).findByRole("alert")).toHaveTextContent("is not one of this account's rooms");
      expect(within(picker).getByLabelText("Announcements")).toBeChecked();
    });

    it("says when the account had joined no rooms", async () => {
      renderMatrix([alice([])]);
      expect(await screen.findByText(/had joined no rooms when it connected/)).toBeInTheDocument();
      expect(screen.queryByRole("button", { name: "Save rooms" })).not.toBeInTheDocument();
    });
  });

  it("shows no free text from the URL when a connection came back with an error", async () => {
    vi.stubGlobal("fetch", vi.fn().mockImplementation(() => json(bluesky([]))));
    render(
      <MemoryRouter
        initialEntries={["/?connect_error=access_denied&platform=bluesky&message=Call%20evil.example%20now"]}
      >
        <Dashboard />
      </MemoryRouter>,
    );
    await screen.findByText(/You declined at Bluesky, so nothing was connected/);
    expect(screen.queryByText(/evil\.example/)).not.toBeInTheDocument();
  });

  it("names no crafted code and says what to do when the platform could not end the grant", async () => {
    const account = { id: "c1", platform: "bluesky", handle: "ada.test", display_name: "ada.test", status: "active" };
    let gone = false;
    const fetch = vi.fn().mockImplementation((_url: string, init?: RequestInit) => {
      if (init?.method === "DELETE") {
        gone = true;
        return json({
          ...account,
          status: "revoked",
          platform_revocation: "failed",
          message: "remove Prasaran's access in your Bluesky account settings",
        });
      }
      return json(bluesky(gone ? [] : [account]));
    });
    vi.stubGlobal("fetch", fetch);
    render(
      <MemoryRouter initialEntries={["/?connect_error=%3Cscript%3E&platform=nope"]}>
        <Dashboard />
      </MemoryRouter>,
    );
    await screen.findByText(/The platform did not finish connecting\./);
    fireEvent.click(await screen.findByRole("button", { name: "Disconnect" }));
    fireEvent.click(screen.getByRole("button", { name: "Yes, disconnect" }));
    await screen.findByText(/remove Prasaran's access in your Bluesky account settings/);
    expect(screen.getByText("Disconnected here, but not at the platform")).toBeInTheDocument();
  });

  describe("back from connecting", () => {
    /** Where the router is, and how it got there. */
    function Where() {
      const location = useLocation();
      return (
        <output data-testid="where" data-how={useNavigationType()}>
          {location.pathname + location.search}
        </output>
      );
    }

    const manch = {
      platforms: [
        {
          id: "manch",
          name: "Manch",
          connect: "redirect",
          rules: { max_chars: 500 },
          state: "active",
          connections: [{ id: "c1", platform: "manch", handle: "ada", display_name: "Ada", status: "active" }],
        },
      ],
    };

    it("names the platform, and takes the parameters out of the address so a reload does not say it again", async () => {
      vi.stubGlobal("fetch", vi.fn().mockImplementation(() => json(manch)));
      render(
        <MemoryRouter initialEntries={["/?connected=manch&handle=ada"]}>
          <Dashboard />
          <Where />
        </MemoryRouter>,
      );
      const banner = (await screen.findByText(/Your Manch account is connected/)).closest('[role="status"]');
      expect(banner).toHaveTextContent("Your Manch account is connected. You can publish to it now.");
      await waitFor(() => expect(screen.getByTestId("where")).toHaveTextContent(/^\/$/));
      // Replaced, not pushed: Back does not bring the parameters back either.
      expect(screen.getByTestId("where")).toHaveAttribute("data-how", "REPLACE");
      // Still shown now that the address has no parameters.
      await screen.findByText("@ada");
      expect(screen.getByText(/Your Manch account is connected/)).toBeInTheDocument();
      fireEvent.click(screen.getByRole("button", { name: "Dismiss" }));
      expect(screen.queryByText(/account is connected/)).not.toBeInTheDocument();
    });

    it("names a platform by its id before the list has loaded, and shows no crafted text", async () => {
      vi.stubGlobal("fetch", vi.fn().mockImplementation(() => new Promise(() => {})));
      const { unmount } = render(
        <MemoryRouter initialEntries={["/?connected=mastodon"]}>
          <Dashboard />
        </MemoryRouter>,
      );
      expect(screen.getByText(/Your Mastodon account is connected/)).toBeInTheDocument();
      unmount();
      render(
        <MemoryRouter initialEntries={["/?connected=Call%20evil.example%20now"]}>
          <Dashboard />
        </MemoryRouter>,
      );
      expect(screen.getByText(/Your new account is connected/)).toBeInTheDocument();
      expect(screen.queryByText(/evil\.example/)).not.toBeInTheDocument();
    });
  });
});
