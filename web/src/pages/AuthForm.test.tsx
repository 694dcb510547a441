import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setCsrfToken } from "../api/client";
import { AuthProvider } from "../auth";
import { FakeEventSource } from "../test-events";
import { apiError, callsTo, fakeServer, json, renderApp } from "../test-fetch";
import { AuthForm } from "./AuthForm";

function respond(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
}

function renderForm(mode: "login" | "signup", fetch: ReturnType<typeof vi.fn>) {
  vi.stubGlobal("fetch", fetch);
  return render(
    <MemoryRouter>
      <AuthProvider>
        <AuthForm mode={mode} />
      </AuthProvider>
    </MemoryRouter>,
  );
}

const unauthenticated = () => respond(401, { error: { code: "unauthenticated", message: "log in" } });

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
  FakeEventSource.opened = [];
});

const ada = { id: "u1", email: "ada@example.com", role: "user", email_verified: true };

async function logIn(password = "correct horse battery staple") {
  await userEvent.type(await screen.findByLabelText("Email"), "ada@example.com");
  await userEvent.type(screen.getByLabelText("Password"), password);
  await userEvent.click(screen.getByRole("button", { name: "Log in" }));
}

describe("AuthForm", () => {
  it("shows field errors from the client before calling the server", async () => {
    const fetch = vi.fn().mockImplementation(() => Promise.resolve(unauthenticated()));
    renderForm("signup", fetch);
    await userEvent.type(screen.getByLabelText("Email"), "nope");
    await userEvent.type(screen.getByLabelText("Password"), "short");
    await userEvent.click(screen.getByRole("button", { name: "Sign up" }));
    expect(await screen.findByText("Enter a valid email address.")).toBeInTheDocument();
    expect(screen.getByText("Use at least 12 characters.")).toBeInTheDocument();
    expect(screen.getByLabelText("Email")).toHaveAttribute("aria-invalid", "true");
    // Only the session probe reached the server.
    expect(fetch.mock.calls.map((c) => c[0])).toEqual(["/api/v1/me"]);
  });

  it("puts the server's field error under the field", async () => {
    const fetch = vi
      .fn()
      .mockImplementationOnce(() => Promise.resolve(unauthenticated()))
      .mockImplementationOnce(() =>
        Promise.resolve(respond(422, { error: { code: "invalid_email", message: "that address cannot get mail" } })),
      );
    renderForm("signup", fetch);
    await userEvent.type(screen.getByLabelText("Email"), "ada@example.com");
    await userEvent.type(screen.getByLabelText("Password"), "correct horse battery");
    await userEvent.click(screen.getByRole("button", { name: "Sign up" }));
    expect(await screen.findByText("that address cannot get mail")).toBeInTheDocument();
    expect(screen.getByLabelText("Email")).toHaveAttribute("aria-invalid", "true");
    // Refused: no login is tried.
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it("tells how long to wait when rate limited", async () => {
    const fetch = vi
      .fn()
      .mockImplementationOnce(() => Promise.resolve(unauthenticated()))
      .mockImplementationOnce(() =>
        Promise.resolve(
          respond(429, { error: { code: "rate_limited", message: "too many" } }, { "Retry-After": "37" }),
        ),
      );
    renderForm("login", fetch);
    await userEvent.type(screen.getByLabelText("Email"), "ada@example.com");
    await userEvent.type(screen.getByLabelText("Password"), "correct horse battery");
    await userEvent.click(screen.getByRole("button", { name: "Log in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Try again in 37 seconds.");
  });

  describe("signing up", () => {
    const sent = () =>
      json({ status: "verification_sent", message: "Check your inbox to verify your address." }, 202);
    const newUser = { id: "u1", email: "ada@example.com", role: "user", email_verified: false };

    async function signUp(email = "ada@example.com", password = "correct horse battery staple") {
      await userEvent.type(await screen.findByLabelText("Email"), email);
      await userEvent.type(screen.getByLabelText("Password"), password);
      await userEvent.click(screen.getByRole("button", { name: "Sign up" }));
    }

    it("logs in with the same credentials and lands on the dashboard, asking to verify the address", async () => {
      const calls = fakeServer({
        "POST /api/v1/auth/signup": sent,
        "POST /api/v1/auth/login": () => json({ user: newUser, csrf_token: "csrf-9" }),
        "GET /api/v1/platforms": () => json({ platforms: [] }),
      });
      renderApp("/signup");
      await signUp();
      expect(await screen.findByRole("heading", { name: "Your platforms" })).toBeInTheDocument();
      const banner = screen.getByRole("region", { name: "Email verification" });
      expect(banner).toHaveTextContent(
        "Verify your email address: we sent a link to ada@example.com. You can connect platforms once it is verified.",
      );
      const credentials = { email: "ada@example.com", password: "correct horse battery staple" };
      const [signup] = callsTo(calls, "POST", "/api/v1/auth/signup");
      const logins = callsTo(calls, "POST", "/api/v1/auth/login");
      expect(signup.body).toEqual(credentials);
      expect(logins).toHaveLength(1);
      expect(logins[0].body).toEqual(credentials);
      expect(calls.indexOf(signup)).toBeLessThan(calls.indexOf(logins[0]));
    });

    it("says no more than the server when the address already has an account with another password", async () => {
      const calls = fakeServer({
        "POST /api/v1/auth/signup": sent,
        "POST /api/v1/auth/login": () => apiError(401, "invalid_credentials", "wrong email or password"),
      });
      renderApp("/signup");
      await signUp();
      expect(await screen.findByRole("heading", { name: "Check your email" })).toBeInTheDocument();
      expect(screen.getByRole("status")).toHaveTextContent(
        "We sent a message to ada@example.com. If you already have an account with that address, log in with its password or reset it.",
      );
      expect(screen.getByRole("link", { name: "Log in" })).toHaveAttribute("href", "/login");
      expect(screen.getByRole("link", { name: "Reset your password" })).toHaveAttribute("href", "/forgot-password");
      // Neither the login's refusal nor the form is shown.
      expect(screen.queryByText("wrong email or password")).not.toBeInTheDocument();
      expect(screen.queryByRole("button", { name: "Sign up" })).not.toBeInTheDocument();
      expect(callsTo(calls, "POST", "/api/v1/auth/login")).toHaveLength(1);
      expect(callsTo(calls, "GET", "/api/v1/platforms")).toHaveLength(0);
    });

    it("shows the server's reason for a refused password under the field", async () => {
      const calls = fakeServer({
        "POST /api/v1/auth/signup": () =>
          apiError(422, "invalid_password", "This is a very common password. Add a few more words."),
      });
      renderApp("/signup");
      await signUp("ada@example.com", "password1234");
      expect(await screen.findByText("This is a very common password. Add a few more words.")).toBeInTheDocument();
      expect(screen.getByLabelText("Password")).toHaveAttribute("aria-invalid", "true");
      expect(callsTo(calls, "POST", "/api/v1/auth/login")).toHaveLength(0);
    });

    it("tells how long to wait when the login after signing up is rate limited", async () => {
      fakeServer({
        "POST /api/v1/auth/signup": sent,
        "POST /api/v1/auth/login": () => apiError(429, "rate_limited", "too many", { "Retry-After": "12" }),
      });
      renderApp("/signup");
      await signUp();
      expect(await screen.findByRole("alert")).toHaveTextContent("Try again in 12 seconds.");
      expect(screen.queryByRole("heading", { name: "Check your email" })).not.toBeInTheDocument();
    });
  });

  it("links from the login page to the forgotten-password page", async () => {
    fakeServer({});
    renderApp("/login");
    await userEvent.click(await screen.findByRole("link", { name: "Forgot password?" }));
    const heading = await screen.findByRole("heading", { name: "Reset your password" });
    expect(within(heading.closest("section")!).getByLabelText("Email")).toBeInTheDocument();
  });

  describe("the login form", () => {
    it("asks for the password, not for 12 characters, when it is left empty", async () => {
      const calls = fakeServer({});
      renderApp("/login");
      await userEvent.type(await screen.findByLabelText("Email"), "ada@example.com");
      await userEvent.click(screen.getByRole("button", { name: "Log in" }));
      expect(await screen.findByText("Enter your password.")).toBeInTheDocument();
      expect(screen.queryByText("Use at least 12 characters.")).not.toBeInTheDocument();
      expect(screen.getByLabelText("Password")).toHaveAttribute("aria-invalid", "true");
      expect(callsTo(calls, "POST", "/api/v1/auth/login")).toHaveLength(0);
    });

    it("sends a short password: the length rule is for new passwords only", async () => {
      const calls = fakeServer({
        "POST /api/v1/auth/login": () => apiError(401, "invalid_credentials", "wrong email or password"),
      });
      renderApp("/login");
      await logIn("short");
      expect(await screen.findByRole("alert")).toHaveTextContent("wrong email or password");
      expect(callsTo(calls, "POST", "/api/v1/auth/login")[0].body).toEqual({ email: "ada@example.com", password: "short" });
    });

    it("leaves its values and errors behind when going to the sign-up form and back", async () => {
      fakeServer({
        "POST /api/v1/auth/login": () => apiError(401, "invalid_credentials", "wrong email or password"),
      });
      renderApp("/login");
      await userEvent.click(await screen.findByRole("button", { name: "Log in" }));
      expect(await screen.findByText("Enter your email address.")).toBeInTheDocument();
      await userEvent.click(screen.getByRole("link", { name: "Create an account" }));
      expect(await screen.findByRole("heading", { name: "Create your account" })).toBeInTheDocument();
      expect(screen.queryByText("Enter your email address.")).not.toBeInTheDocument();
      expect(screen.queryByText("Enter your password.")).not.toBeInTheDocument();
      expect(screen.getByLabelText("Email")).not.toHaveAttribute("aria-invalid");

      await userEvent.click(screen.getByRole("link", { name: "Log in" }));
      await logIn();
      expect(await screen.findByRole("alert")).toHaveTextContent("wrong email or password");
      await userEvent.click(screen.getByRole("link", { name: "Create an account" }));
      expect(await screen.findByRole("heading", { name: "Create your account" })).toBeInTheDocument();
      expect(screen.queryByRole("alert")).not.toBeInTheDocument();
      expect(screen.getByLabelText("Email")).toHaveValue("");
      expect(screen.getByLabelText("Password")).toHaveValue("");
      // And the sign-up form's own rule applies there.
      await userEvent.type(screen.getByLabelText("Password"), "short");
      await userEvent.click(screen.getByRole("button", { name: "Sign up" }));
      expect(await screen.findByText("Use at least 12 characters.")).toBeInTheDocument();
    });
  });

  describe("a page asked for before logging in", () => {
    const J1 = "5f0c6a0e-4d1b-4b7e-9a3c-0b6a8f1d2e3c";

    it("opens once logged in", async () => {
      vi.stubGlobal("EventSource", FakeEventSource);
      fakeServer({ "POST /api/v1/auth/login": () => json({ user: ada, csrf_token: "csrf-1" }) });
      renderApp(`/jobs/${J1}`);
      expect(await screen.findByRole("heading", { name: "Log in" })).toBeInTheDocument();
      await logIn();
      expect(await screen.findByText("Loading the publish…")).toBeInTheDocument();
      await waitFor(() => expect(FakeEventSource.opened.map((s) => s.url)).toContain(`/api/v1/jobs/${J1}/events`));
      expect(screen.queryByRole("heading", { name: "Your platforms" })).not.toBeInTheDocument();
    });

    it("opens, with its query, after signing up from the login page", async () => {
      const calls = fakeServer({
        "POST /api/v1/auth/signup": () => json({ status: "verification_sent", message: "Check your inbox." }, 202),
        "POST /api/v1/auth/login": () => json({ user: ada, csrf_token: "csrf-1" }),
        "GET /api/v1/posts?limit=10": () => json({ posts: [], next_cursor: null }),
      });
      renderApp("/history?from=mail");
      await userEvent.click(await screen.findByRole("link", { name: "Create an account" }));
      await userEvent.type(await screen.findByLabelText("Email"), "ada@example.com");
      await userEvent.type(screen.getByLabelText("Password"), "correct horse battery staple");
      await userEvent.click(screen.getByRole("button", { name: "Sign up" }));
      expect(await screen.findByRole("heading", { name: "History" })).toBeInTheDocument();
      expect(callsTo(calls, "POST", "/api/v1/auth/signup")).toHaveLength(1);
    });

    it("is not followed off the site: the dashboard opens instead", async () => {
      for (const from of ["//evil.example/x", "/\\evil.example", "https://evil.example/"]) {
        fakeServer({
          "POST /api/v1/auth/login": () => json({ user: ada, csrf_token: "csrf-1" }),
          "GET /api/v1/platforms": () => json({ platforms: [] }),
        });
        const { unmount } = renderApp({ pathname: "/login", state: { from } });
        await logIn();
        expect(await screen.findByRole("heading", { name: "Your platforms" })).toBeInTheDocument();
        unmount();
      }
    });
  });
});
