import { fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setCsrfToken } from "../api/client";
import { apiError, callsTo, fakeServer, json, noContent, renderApp } from "../test-fetch";

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
});

const PASSWORD = "a different long passphrase 42";

async function choose(password: string, confirm = password) {
  fireEvent.change(await screen.findByLabelText("New password"), { target: { value: password } });
  fireEvent.change(screen.getByLabelText("Confirm new password"), { target: { value: confirm } });
  fireEvent.click(screen.getByRole("button", { name: "Set new password" }));
}

describe("ResetPassword", () => {
  it("sets the new password with the link's token and sends the visitor to log in", async () => {
    const calls = fakeServer({ "POST /api/v1/auth/reset-password": noContent });
    renderApp("/reset-password?token=tok-123");
    expect(await screen.findByRole("heading", { name: "Choose a new password" })).toBeInTheDocument();
    await choose(PASSWORD);
    expect(await screen.findByRole("heading", { name: "Log in" })).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent(
      "Your password was changed; every other session was signed out. Log in with the new password.",
    );
    const sent = callsTo(calls, "POST", "/api/v1/auth/reset-password");
    expect(sent).toHaveLength(1);
    expect(sent[0].body).toEqual({ token: "tok-123", password: PASSWORD });
  });

  it("forgets a signed-in user: the reset ended their session too", async () => {
    const calls = fakeServer({
      "GET /api/v1/me": () =>
        json({ user: { id: "u1", email: "ada@example.com", role: "user", email_verified: true }, csrf_token: "old-csrf" }),
      "POST /api/v1/auth/reset-password": noContent,
      "POST /api/v1/auth/login": () => apiError(401, "invalid_credentials", "wrong email or password"),
    });
    renderApp("/reset-password?token=tok-123");
    await waitFor(() => expect(callsTo(calls, "GET", "/api/v1/me").length).toBeGreaterThan(0));
    await choose(PASSWORD);
    expect(await screen.findByRole("heading", { name: "Log in" })).toBeInTheDocument();
    // The ended session's CSRF token is gone with it.
    fireEvent.change(screen.getByLabelText("Email"), { target: { value: "ada@example.com" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: PASSWORD } });
    fireEvent.click(screen.getByRole("button", { name: "Log in" }));
    await screen.findByText("wrong email or password");
    expect(callsTo(calls, "POST", "/api/v1/auth/reset-password")[0].headers.get("X-CSRF-Token")).toBe("old-csrf");
    expect(callsTo(calls, "POST", "/api/v1/auth/login")[0].headers.get("X-CSRF-Token")).toBeNull();
  });

  it("will not send two passwords that differ", async () => {
    const calls = fakeServer({ "POST /api/v1/auth/reset-password": noContent });
    renderApp("/reset-password?token=tok-123");
    await choose(PASSWORD, `${PASSWORD}!`);
    expect(await screen.findByText("The two passwords do not match.")).toBeInTheDocument();
    expect(screen.getByLabelText("Confirm new password")).toHaveAttribute("aria-invalid", "true");
    expect(callsTo(calls, "POST", "/api/v1/auth/reset-password")).toHaveLength(0);
  });

  it("shows why the server refused the password, under the field", async () => {
    fakeServer({
      "POST /api/v1/auth/reset-password": () =>
        apiError(422, "invalid_password", "This password is too easy to guess. Add another word or two."),
    });
    renderApp("/reset-password?token=tok-123");
    await choose("password1234");
    expect(await screen.findByText("This password is too easy to guess. Add another word or two.")).toBeInTheDocument();
    expect(screen.getByLabelText("New password")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByRole("button", { name: "Set new password" })).toBeInTheDocument();
  });

  it("says when the link has expired or was used, and where to get a new one", async () => {
    fakeServer({
      "POST /api/v1/auth/reset-password": () =>
        apiError(422, "invalid_link", "This link has expired or was already used."),
    });
    renderApp("/reset-password?token=old");
    await choose(PASSWORD);
    expect(await screen.findByRole("heading", { name: "This link no longer works" })).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("This link has expired or was already used.");
    expect(screen.getByRole("link", { name: "Ask for a new link" })).toHaveAttribute("href", "/forgot-password");
    expect(screen.queryByLabelText("New password")).not.toBeInTheDocument();
  });

  it("says the link is incomplete when it has no token", async () => {
    const calls = fakeServer({ "POST /api/v1/auth/reset-password": noContent });
    renderApp("/reset-password");
    expect(await screen.findByRole("heading", { name: "This link is incomplete" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Ask for a new link" })).toHaveAttribute("href", "/forgot-password");
    expect(screen.queryByLabelText("New password")).not.toBeInTheDocument();
    expect(callsTo(calls, "POST", "/api/v1/auth/reset-password")).toHaveLength(0);
  });
});
