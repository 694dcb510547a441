import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setCsrfToken } from "../api/client";
import { AuthProvider } from "../auth";
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
});

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
});
