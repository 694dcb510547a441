import { fireEvent, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setCsrfToken } from "../api/client";
import { apiError, callsTo, fakeServer, json, renderApp } from "../test-fetch";

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
});

const resetSent = () =>
  json({ status: "reset_sent", message: "If an account exists for that address, we sent a link to reset its password." }, 202);

async function ask(email: string) {
  fireEvent.change(await screen.findByLabelText("Email"), { target: { value: email } });
  fireEvent.click(screen.getByRole("button", { name: "Send reset link" }));
}

describe("ForgotPassword", () => {
  it("is open to a visitor who is not signed in, and shows the server's answer", async () => {
    const calls = fakeServer({ "POST /api/v1/auth/forgot-password": resetSent });
    renderApp("/forgot-password");
    expect(await screen.findByRole("heading", { name: "Reset your password" })).toBeInTheDocument();
    await ask(" ada@example.com ");
    expect(await screen.findByRole("heading", { name: "Check your email" })).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent(
      "If an account exists for that address, we sent a link to reset its password.",
    );
    expect(screen.getByRole("link", { name: "Back to log in" })).toHaveAttribute("href", "/login");
    const sent = callsTo(calls, "POST", "/api/v1/auth/forgot-password");
    expect(sent).toHaveLength(1);
    expect(sent[0].body).toEqual({ email: "ada@example.com" });
    // Still on its own page: not sent to the login page.
    expect(screen.queryByRole("button", { name: "Log in" })).not.toBeInTheDocument();
  });

  it("checks the address before asking the server", async () => {
    const calls = fakeServer({ "POST /api/v1/auth/forgot-password": resetSent });
    renderApp("/forgot-password");
    await ask("not an address");
    expect(await screen.findByText("Enter a valid email address.")).toBeInTheDocument();
    expect(callsTo(calls, "POST", "/api/v1/auth/forgot-password")).toHaveLength(0);
  });

  it("tells how long to wait when rate limited", async () => {
    fakeServer({
      "POST /api/v1/auth/forgot-password": () => apiError(429, "rate_limited", "too many", { "Retry-After": "30" }),
    });
    renderApp("/forgot-password");
    await ask("ada@example.com");
    expect(await screen.findByRole("alert")).toHaveTextContent("Too many attempts. Try again in 30 seconds.");
    expect(screen.queryByRole("heading", { name: "Check your email" })).not.toBeInTheDocument();
  });
});
