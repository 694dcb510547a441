import { fireEvent, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setCsrfToken } from "../api/client";
import { apiError, callsTo, fakeServer, json, noContent, renderApp } from "../test-fetch";

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
});

const ada = { id: "u1", email: "ada@example.com", role: "user" };
const verifyCalls = (calls: ReturnType<typeof fakeServer>) => callsTo(calls, "POST", "/api/v1/auth/verify-email");

describe("VerifyEmail", () => {
  it("sends the token once (StrictMode runs effects twice) and leads a signed-in user to a dashboard without the banner", async () => {
    let verified = false;
    const calls = fakeServer({
      "GET /api/v1/me": () => json({ user: { ...ada, email_verified: verified }, csrf_token: "csrf-1" }),
      // Answered once the page has read the user (still unverified then).
      "POST /api/v1/auth/verify-email": () =>
        new Promise<void>((done) => setTimeout(done, 30)).then(() => {
          verified = true;
          return noContent();
        }),
      "GET /api/v1/platforms": () => json({ platforms: [] }),
    });
    renderApp("/verify-email?token=tok-abc");
    expect(await screen.findByRole("heading", { name: "Your email address is verified" })).toBeInTheDocument();
    expect(verifyCalls(calls)).toHaveLength(1);
    expect(verifyCalls(calls)[0].body).toEqual({ token: "tok-abc" });

    fireEvent.click(await screen.findByRole("link", { name: "Go to your dashboard" }));
    expect(await screen.findByRole("heading", { name: "Your platforms" })).toBeInTheDocument();
    expect(screen.queryByRole("region", { name: "Email verification" })).not.toBeInTheDocument();
    expect(verifyCalls(calls)).toHaveLength(1);
  });

  it("works for a visitor who is not signed in, and offers to log in", async () => {
    const calls = fakeServer({ "POST /api/v1/auth/verify-email": noContent });
    renderApp("/verify-email?token=tok-abc");
    expect(await screen.findByRole("heading", { name: "Your email address is verified" })).toBeInTheDocument();
    expect(await screen.findByRole("link", { name: "Log in" })).toHaveAttribute("href", "/login");
    expect(verifyCalls(calls)).toHaveLength(1);
  });

  it("shows the server's word for a used or expired link, and where to ask for a new one", async () => {
    const calls = fakeServer({
      "GET /api/v1/me": () => json({ user: { ...ada, email_verified: false }, csrf_token: "csrf-1" }),
      "POST /api/v1/auth/verify-email": () =>
        apiError(422, "invalid_link", "This link has expired or was already used."),
    });
    renderApp("/verify-email?token=old");
    expect(await screen.findByRole("heading", { name: "This link no longer works" })).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("This link has expired or was already used.");
    expect(screen.getByText(/Ask for a new link in Settings/)).toBeInTheDocument();
    expect(await screen.findByRole("link", { name: "Open Settings" })).toHaveAttribute("href", "/settings");
    expect(screen.queryByRole("heading", { name: "Your email address is verified" })).not.toBeInTheDocument();
    expect(verifyCalls(calls)).toHaveLength(1);
  });

  it("says the link is incomplete when it has no token, and sends nothing", async () => {
    const calls = fakeServer({ "POST /api/v1/auth/verify-email": noContent });
    renderApp("/verify-email");
    expect(await screen.findByRole("heading", { name: "This link is incomplete" })).toBeInTheDocument();
    expect(verifyCalls(calls)).toHaveLength(0);
  });

  it("can try again after a failure that was not the link's fault", async () => {
    let answers = 0;
    const calls = fakeServer({
      "POST /api/v1/auth/verify-email": () => {
        answers += 1;
        return answers === 1 ? apiError(503, "unavailable", "The server is busy. Try again in a moment.") : noContent();
      },
    });
    renderApp("/verify-email?token=tok-abc");
    expect(await screen.findByRole("alert")).toHaveTextContent("The server is busy. Try again in a moment.");
    expect(verifyCalls(calls)).toHaveLength(1);
    fireEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByRole("heading", { name: "Your email address is verified" })).toBeInTheDocument();
    expect(verifyCalls(calls)).toHaveLength(2);
  });
});
