import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { App } from "../App";
import { setCsrfToken } from "../api/client";
import { AuthProvider } from "../auth";

function json(body: unknown, status = 200, headers: Record<string, string> = {}) {
  return Promise.resolve(
    new Response(status === 204 ? null : JSON.stringify(body), {
      status,
      headers: { "Content-Type": "application/json", ...headers },
    }),
  );
}

const noContent = () => json(null, 204);

const thisBrowser = {
  id: "s-here",
  created_at: "2026-01-01T09:00:00Z",
  last_seen_at: "2026-01-02T09:00:00Z",
  ip: "203.0.113.7",
  user_agent: "Firefox on Linux",
  current: true,
};
const laptop = {
  id: "s-laptop",
  created_at: "2025-12-01T09:00:00Z",
  last_seen_at: "2025-12-20T09:00:00Z",
  ip: null,
  user_agent: null,
  current: false,
};
const loadTest = {
  id: "t1",
  name: "load test",
  prefix: "prs_abc123",
  scopes: ["posts:write", "posts:read", "connections"],
  expires_at: "2999-04-01T10:00:00Z",
  created_at: "2026-01-01T10:00:00Z",
  last_used_at: null,
};

const ada = { id: "u1", email: "ada@example.com", role: "user", email_verified: true };

type Answer = (body: unknown) => Promise<Response>;

/**
 * A fetch standing in for the server, signed in as Ada: records every call;
 * `answers` (by "METHOD path") replace the default answers.
 */
function server(answers: Record<string, Answer> = {}) {
  const calls: { method: string; url: string; body: unknown; headers: Headers }[] = [];
  let sessions = [thisBrowser, laptop];
  let tokens: unknown[] = [loadTest];
  const defaults: Record<string, Answer> = {
    "GET /api/v1/me": () => json({ user: ada, csrf_token: "csrf-1" }),
    "GET /api/v1/sessions": () => json({ sessions }),
    "GET /api/v1/tokens": () => json({ tokens }),
    "POST /api/v1/auth/password": () => noContent(),
    "POST /api/v1/auth/logout-everywhere": () => noContent(),
    "DELETE /api/v1/sessions/s-laptop": () => {
      sessions = [thisBrowser];
      return noContent();
    },
    "POST /api/v1/tokens": (body) => {
      const { name, scopes = loadTest.scopes, no_expiry } = body as { name: string; scopes?: string[]; no_expiry?: boolean };
      const expires_at = no_expiry ? null : "2999-06-01T10:00:00Z";
      const made = { ...loadTest, id: "t2", name, scopes, expires_at, prefix: "prs_xyz789" };
      tokens = [made, ...tokens];
      return json({ ...made, token: "prs_xyz789-the-whole-secret" }, 201);
    },
    "DELETE /api/v1/tokens/t1": () => {
      tokens = tokens.filter((t) => (t as { id: string }).id !== "t1");
      return noContent();
    },
  };
  const fetch = vi.fn().mockImplementation((url: string, init?: RequestInit) => {
    const method = init?.method ?? "GET";
    const body = typeof init?.body === "string" ? JSON.parse(init.body) : undefined;
    calls.push({ method, url: String(url), body, headers: new Headers(init?.headers) });
    const answer = answers[`${method} ${url}`] ?? defaults[`${method} ${url}`];
    return answer ? answer(body) : json({ error: { code: "not_found", message: "no such thing" } }, 404);
  });
  vi.stubGlobal("fetch", fetch);
  return calls;
}

function renderSettings() {
  return render(
    <MemoryRouter initialEntries={["/settings"]}>
      <AuthProvider>
        <App />
      </AuthProvider>
    </MemoryRouter>,
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
});

describe("Settings", () => {
  it("is in the main navigation", async () => {
    server();
    renderSettings();
    const nav = await screen.findByRole("navigation", { name: "Main" });
    expect(within(nav).getByRole("link", { name: "Settings" })).toHaveAttribute("aria-current", "page");
    expect(screen.getByRole("heading", { level: 1, name: "Settings" })).toBeInTheDocument();
  });

  describe("account", () => {
    it("shows the email address as verified, with nothing to resend", async () => {
      server();
      renderSettings();
      const account = await screen.findByRole("region", { name: "Account" });
      await within(account).findByText("ada@example.com");
      expect(account).toHaveTextContent("Verified");
      expect(account).not.toHaveTextContent("Not verified");
      expect(screen.queryByRole("button", { name: "Send the link again" })).not.toBeInTheDocument();
    });

    it("sends the verification link again for an unverified address, once, and shows the answer", async () => {
      const calls = server({
        "GET /api/v1/me": () => json({ user: { ...ada, email_verified: false }, csrf_token: "csrf-1" }),
        "POST /api/v1/auth/resend-verification": () =>
          json({ status: "verification_sent", message: "We sent a new link to ada@example.com." }, 202),
      });
      renderSettings();
      const account = await screen.findByRole("region", { name: "Account" });
      await within(account).findByText("Not verified");
      // Settings has its own button: the signed-in pages' banner is not shown twice here.
      expect(screen.queryByRole("region", { name: "Email verification" })).not.toBeInTheDocument();
      fireEvent.click(within(account).getByRole("button", { name: "Send the link again" }));
      expect(await within(account).findByText("We sent a new link to ada@example.com.")).toBeInTheDocument();
      const sent = calls.filter((c) => c.url === "/api/v1/auth/resend-verification");
      expect(sent).toHaveLength(1);
      expect(sent[0].method).toBe("POST");
      expect(sent[0].headers.get("X-CSRF-Token")).toBe("csrf-1");
    });
  });

  describe("usage", () => {
    it("shows each quota with what was used, and marks a full one", async () => {
      const use = (used: number, limit: number) => ({ used, limit });
      server({
        "GET /api/v1/me": () =>
          json({
            user: ada,
            csrf_token: "csrf-1",
            quotas: {
              publishes_per_hour: use(12, 1000),
              publishes_per_day: use(40, 10000),
              pending_scheduled: use(3, 1000),
              connections: use(50, 50),
              api_tokens: use(1, 50),
              authorizations_per_hour: use(2, 60),
              media_bytes: use(2_500_000, 10_000_000_000),
            },
          }),
      });
      renderSettings();
      const usage = await screen.findByRole("region", { name: "Usage" });
      expect(await within(usage).findByTestId("quota-publishes_per_hour")).toHaveTextContent("Posts in the last hour12 of 1000");
      expect(within(usage).getByTestId("quota-connections")).toHaveTextContent("50 of 50 — full");
      expect(within(usage).getByTestId("quota-api_tokens")).not.toHaveTextContent("full");
      expect(within(usage).getByTestId("quota-media_bytes")).toHaveTextContent("2.5 MB of 10.0 GB");
    });
  });

  describe("password", () => {
    async function change(current: string, next: string) {
      fireEvent.change(await screen.findByLabelText("Current password"), { target: { value: current } });
      fireEvent.change(screen.getByLabelText("New password"), { target: { value: next } });
      fireEvent.click(screen.getByRole("button", { name: "Change password" }));
    }

    it("sends both passwords with the CSRF token and clears the fields", async () => {
      const calls = server();
      renderSettings();
      expect(await screen.findByLabelText("Current password")).toHaveAttribute("autocomplete", "current-password");
      expect(screen.getByLabelText("New password")).toHaveAttribute("autocomplete", "new-password");
      expect(screen.getByLabelText("New password")).toHaveAttribute("minlength", "12");
      await change("old horse battery", "correct horse battery staple");
      expect(await screen.findByText("Password changed. Your other sessions were signed out.")).toBeInTheDocument();
      const sent = calls.find((c) => c.url === "/api/v1/auth/password");
      expect(sent?.method).toBe("POST");
      expect(sent?.body).toEqual({ current_password: "old horse battery", new_password: "correct horse battery staple" });
      expect(sent?.headers.get("X-CSRF-Token")).toBe("csrf-1");
      expect(screen.getByLabelText("Current password")).toHaveValue("");
      expect(screen.getByLabelText("New password")).toHaveValue("");
      // The other sessions ended: the list is read again.
      await waitFor(() => expect(calls.filter((c) => c.url === "/api/v1/sessions")).toHaveLength(2));
    });

    it("shows the server's word for a wrong current password under that field", async () => {
      server({
        "POST /api/v1/auth/password": () =>
          json(
            { error: { code: "wrong_password", message: "the current password is not right; nothing was changed" } },
            403,
          ),
      });
      renderSettings();
      await change("not my password", "correct horse battery staple");
      expect(await screen.findByText("the current password is not right; nothing was changed")).toBeInTheDocument();
      expect(screen.getByLabelText("Current password")).toHaveAttribute("aria-invalid", "true");
      expect(screen.getByLabelText("New password")).toHaveValue("correct horse battery staple");
      expect(screen.queryByText(/Password changed/)).not.toBeInTheDocument();
    });

    it("refuses a short new password before asking the server", async () => {
      const calls = server();
      renderSettings();
      await change("old horse battery", "short");
      expect(await screen.findByText("Use at least 12 characters.")).toBeInTheDocument();
      expect(calls.some((c) => c.url === "/api/v1/auth/password")).toBe(false);
    });

    it("tells how long to wait when rate limited", async () => {
      server({
        "POST /api/v1/auth/password": () =>
          json({ error: { code: "rate_limited", message: "too many" } }, 429, { "Retry-After": "42" }),
      });
      renderSettings();
      await change("old horse battery", "correct horse battery staple");
      expect(await screen.findByRole("alert")).toHaveTextContent("Try again in 42 seconds.");
    });
  });

  describe("sessions", () => {
    it("marks this browser and signs another session out by its id", async () => {
      const calls = server();
      renderSettings();
      const list = await screen.findByRole("list", { name: "Sessions" });
      const [here, other] = within(list).getAllByRole("listitem");
      expect(here).toHaveTextContent("Firefox on Linux");
      expect(here).toHaveTextContent("203.0.113.7");
      expect(here).toHaveTextContent(`signed in ${new Date(thisBrowser.created_at).toLocaleString()}`);
      expect(here).toHaveTextContent(`last seen ${new Date(thisBrowser.last_seen_at).toLocaleString()}`);
      expect(within(here).getByText("This browser")).toBeInTheDocument();
      expect(within(here).queryByRole("button", { name: "Sign out" })).not.toBeInTheDocument();
      expect(other).toHaveTextContent("Unknown client");
      expect(within(other).queryByText("This browser")).not.toBeInTheDocument();

      fireEvent.click(within(other).getByRole("button", { name: "Sign out" }));
      await waitFor(() => expect(within(list).getAllByRole("listitem")).toHaveLength(1));
      const ended = calls.find((c) => c.method === "DELETE");
      expect(ended?.url).toBe("/api/v1/sessions/s-laptop");
      expect(ended?.headers.get("X-CSRF-Token")).toBe("csrf-1");
    });

    it("reads the list again when a session had already ended", async () => {
      let gone = false;
      const calls = server({
        "DELETE /api/v1/sessions/s-laptop": () => {
          gone = true;
          return json({ error: { code: "not_found", message: "no such session" } }, 404);
        },
        "GET /api/v1/sessions": () => json({ sessions: gone ? [thisBrowser] : [thisBrowser, laptop] }),
      });
      renderSettings();
      const list = await screen.findByRole("list", { name: "Sessions" });
      fireEvent.click(within(list).getByRole("button", { name: "Sign out" }));
      await waitFor(() => expect(within(list).getAllByRole("listitem")).toHaveLength(1));
      expect(calls.filter((c) => c.url === "/api/v1/sessions" && c.method === "GET")).toHaveLength(2);
      expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    });

    it("signs out everywhere and goes to the login page", async () => {
      const calls = server();
      renderSettings();
      fireEvent.click(await screen.findByRole("button", { name: "Sign out everywhere" }));
      const confirm = screen.getByRole("alertdialog", { name: "Sign out everywhere?" });
      fireEvent.click(within(confirm).getByRole("button", { name: "Yes, sign out everywhere" }));
      expect(await screen.findByRole("heading", { name: "Log in" })).toBeInTheDocument();
      const sent = calls.find((c) => c.url === "/api/v1/auth/logout-everywhere");
      expect(sent?.method).toBe("POST");
      expect(sent?.headers.get("X-CSRF-Token")).toBe("csrf-1");
      // The session is already over: no separate logout is sent.
      expect(calls.some((c) => c.url === "/api/v1/auth/logout")).toBe(false);
    });
  });

  describe("API tokens", () => {
    it("shows a new token's secret once, with a way to copy it", async () => {
      const writeText = vi.fn().mockResolvedValue(undefined);
      vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText } });
      const calls = server();
      renderSettings();
      fireEvent.change(await screen.findByLabelText("Token name"), { target: { value: " deploy " } });
      fireEvent.click(screen.getByRole("button", { name: "Create token" }));
      const secret = await screen.findByLabelText("Your new token");
      expect(secret).toHaveValue("prs_xyz789-the-whole-secret");
      expect(secret).toHaveAttribute("readonly");
      expect(screen.getByText(/Copy it now: it is not shown again\./)).toBeInTheDocument();
      // The default scopes and expiry, sent as such.
      expect(calls.find((c) => c.method === "POST" && c.url === "/api/v1/tokens")?.body).toEqual({
        name: "deploy",
        scopes: ["posts:write", "posts:read", "connections"],
        expires_in_days: 90,
      });
      expect(screen.getByLabelText("Token name")).toHaveValue("");

      fireEvent.click(screen.getByRole("button", { name: "Copy" }));
      await waitFor(() => expect(writeText).toHaveBeenCalledWith("prs_xyz789-the-whole-secret"));
      expect(await screen.findByText("Copied.")).toBeInTheDocument();

      const list = await screen.findByRole("list", { name: "API tokens" });
      await waitFor(() => expect(within(list).getByText("deploy")).toBeInTheDocument());
      expect(list).not.toHaveTextContent("the-whole-secret");
      fireEvent.click(screen.getByRole("button", { name: "Hide token" }));
      expect(screen.queryByLabelText("Your new token")).not.toBeInTheDocument();
      expect(document.body).not.toHaveTextContent("the-whole-secret");
    });

    it("says so when the browser has no clipboard", async () => {
      vi.stubGlobal("navigator", { ...navigator, clipboard: undefined });
      server();
      renderSettings();
      fireEvent.change(await screen.findByLabelText("Token name"), { target: { value: "deploy" } });
      fireEvent.click(screen.getByRole("button", { name: "Create token" }));
      fireEvent.click(await screen.findByRole("button", { name: "Copy" }));
      expect(await screen.findByText(/copy it by hand/)).toBeInTheDocument();
      expect(screen.getByLabelText("Your new token")).toHaveValue("prs_xyz789-the-whole-secret");
    });

    it("creates a token with the scopes and expiry picked, warning about one that never expires", async () => {
      const calls = server();
      renderSettings();
      fireEvent.change(await screen.findByLabelText("Token name"), { target: { value: "ci" } });
      // The three default scopes are ticked, `tokens` is not.
      expect(screen.getByLabelText("posts:write")).toBeChecked();
      expect(screen.getByLabelText("posts:read")).toBeChecked();
      expect(screen.getByLabelText("connections")).toBeChecked();
      expect(screen.getByLabelText("tokens")).not.toBeChecked();
      expect(screen.getByLabelText("Expires")).toHaveValue("90");
      expect(screen.queryByText("A token that never expires stays valid until you revoke it.")).not.toBeInTheDocument();

      fireEvent.click(screen.getByLabelText("posts:read"));
      fireEvent.click(screen.getByLabelText("tokens"));
      fireEvent.change(screen.getByLabelText("Expires"), { target: { value: "never" } });
      expect(screen.getByLabelText("Expires")).toHaveAccessibleDescription(
        "A token that never expires stays valid until you revoke it.",
      );
      fireEvent.click(screen.getByRole("button", { name: "Create token" }));
      expect(await screen.findByLabelText("Your new token")).toHaveValue("prs_xyz789-the-whole-secret");
      expect(calls.find((c) => c.method === "POST" && c.url === "/api/v1/tokens")?.body).toEqual({
        name: "ci",
        scopes: ["posts:write", "connections", "tokens"],
        no_expiry: true,
      });
      const list = screen.getByRole("list", { name: "API tokens" });
      await waitFor(() => expect(within(list).getAllByRole("listitem")).toHaveLength(2));
      const [made] = within(list).getAllByRole("listitem");
      expect(made).toHaveTextContent("scopes: posts:write, connections, tokens");
      expect(made).toHaveTextContent("never expires");
      // The form is back to the defaults for the next token.
      expect(screen.getByLabelText("Expires")).toHaveValue("90");
      expect(screen.getByLabelText("posts:read")).toBeChecked();
      expect(screen.getByLabelText("tokens")).not.toBeChecked();
    });

    it("sends 30 or 365 days as picked", async () => {
      const calls = server();
      renderSettings();
      fireEvent.change(await screen.findByLabelText("Token name"), { target: { value: "short" } });
      fireEvent.change(screen.getByLabelText("Expires"), { target: { value: "30" } });
      fireEvent.click(screen.getByRole("button", { name: "Create token" }));
      await screen.findByLabelText("Your new token");
      expect(calls.find((c) => c.method === "POST" && c.url === "/api/v1/tokens")?.body).toMatchObject({
        expires_in_days: 30,
      });
    });

    it("will not create a token without a scope", async () => {
      const calls = server();
      renderSettings();
      fireEvent.change(await screen.findByLabelText("Token name"), { target: { value: "none" } });
      for (const scope of ["posts:write", "posts:read", "connections"]) fireEvent.click(screen.getByLabelText(scope));
      expect(screen.getByText("Pick at least one scope.")).toBeInTheDocument();
      expect(screen.getByRole("button", { name: "Create token" })).toBeDisabled();
      fireEvent.submit(screen.getByRole("form", { name: "Create an API token" }));
      expect(calls.some((c) => c.method === "POST" && c.url === "/api/v1/tokens")).toBe(false);
    });

    it("asks for the password when the login is too old, and sends it with the same token", async () => {
      let asked = 0;
      const calls = server({
        "POST /api/v1/tokens": (body) => {
          asked += 1;
          const { password } = body as { password?: string };
          if (password === undefined) {
            return json({ error: { code: "reauthentication_required", message: "log in again" } }, 403);
          }
          if (password !== "correct horse battery staple") {
            return json({ error: { code: "wrong_password", message: "that password is not right" } }, 403);
          }
          return json({ ...loadTest, id: "t2", name: "deploy", token: "prs_new-secret" }, 201);
        },
      });
      renderSettings();
      fireEvent.change(await screen.findByLabelText("Token name"), { target: { value: "deploy" } });
      fireEvent.click(screen.getByLabelText("tokens"));
      expect(screen.queryByLabelText("Your password")).not.toBeInTheDocument();
      fireEvent.click(screen.getByRole("button", { name: "Create token" }));

      const password = await screen.findByLabelText("Your password");
      expect(password).toHaveAttribute("type", "password");
      expect(password).toHaveAccessibleDescription(/enter your password to confirm it is you/);
      expect(screen.queryByLabelText("Your new token")).not.toBeInTheDocument();
      expect(screen.queryByRole("alert")).not.toBeInTheDocument();
      // What was typed stays; nothing goes without a password.
      expect(screen.getByLabelText("Token name")).toHaveValue("deploy");
      expect(screen.getByRole("button", { name: "Create token" })).toBeDisabled();

      fireEvent.change(password, { target: { value: "not it" } });
      fireEvent.click(screen.getByRole("button", { name: "Create token" }));
      expect(await screen.findByText("that password is not right")).toBeInTheDocument();
      expect(screen.getByLabelText("Your password")).toHaveAttribute("aria-invalid", "true");

      fireEvent.change(screen.getByLabelText("Your password"), { target: { value: "correct horse battery staple" } });
      fireEvent.click(screen.getByRole("button", { name: "Create token" }));
      expect(await screen.findByLabelText("Your new token")).toHaveValue("prs_new-secret");
      expect(asked).toBe(3);
      const sent = calls.filter((c) => c.method === "POST" && c.url === "/api/v1/tokens").map((c) => c.body);
      expect(sent[0]).toEqual({
        name: "deploy",
        scopes: ["posts:write", "posts:read", "connections", "tokens"],
        expires_in_days: 90,
      });
      expect(sent[2]).toEqual({ ...(sent[0] as object), password: "correct horse battery staple" });
      // Asked for once: the next token starts without the field.
      expect(screen.queryByLabelText("Your password")).not.toBeInTheDocument();
    });

    it("shows each token's scopes, expiry and last use", async () => {
      server({
        "GET /api/v1/tokens": () =>
          json({
            tokens: [
              { ...loadTest, last_used_at: "2026-01-03T10:00:00Z" },
              { ...loadTest, id: "t3", name: "forever", expires_at: null, scopes: ["posts:read"] },
              { ...loadTest, id: "t4", name: "old", expires_at: "2026-01-02T10:00:00Z" },
            ],
          }),
      });
      renderSettings();
      const list = await screen.findByRole("list", { name: "API tokens" });
      const [live, forever, old] = await within(list).findAllByRole("listitem");
      expect(live).toHaveTextContent("scopes: posts:write, posts:read, connections");
      expect(live).toHaveTextContent(`expires ${new Date(loadTest.expires_at).toLocaleString()}`);
      expect(live).toHaveTextContent(`last used ${new Date("2026-01-03T10:00:00Z").toLocaleString()}`);
      expect(within(live).queryByText("Expired")).not.toBeInTheDocument();
      expect(forever).toHaveTextContent("scopes: posts:read");
      expect(forever).toHaveTextContent("never expires");
      expect(old).toHaveTextContent(`expired ${new Date("2026-01-02T10:00:00Z").toLocaleString()}`);
      expect(within(old).getByText("Expired")).toBeInTheDocument();
    });

    it("lists tokens and revokes one by its id", async () => {
      const calls = server();
      renderSettings();
      const list = await screen.findByRole("list", { name: "API tokens" });
      const row = await within(list).findByRole("listitem");
      expect(row).toHaveTextContent("load test");
      expect(row).toHaveTextContent("prs_abc123…");
      expect(row).toHaveTextContent(`created ${new Date(loadTest.created_at).toLocaleString()}`);
      expect(row).toHaveTextContent("last used never");

      fireEvent.click(within(row).getByRole("button", { name: "Revoke" }));
      fireEvent.click(within(row).getByRole("button", { name: "Yes, revoke" }));
      expect(await screen.findByText("No API tokens yet.")).toBeInTheDocument();
      const revoked = calls.find((c) => c.method === "DELETE");
      expect(revoked?.url).toBe("/api/v1/tokens/t1");
      expect(revoked?.headers.get("X-CSRF-Token")).toBe("csrf-1");
    });
  });
});
