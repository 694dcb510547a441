import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setCsrfToken } from "../api/client";
import { apiError, callsTo, fakeServer, json, renderApp, type Answer } from "../test-fetch";

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
});

const ada = { id: "u1", email: "ada@example.com", role: "user" };

function signedInAs(emailVerified: () => boolean, answers: Record<string, Answer> = {}) {
  return fakeServer({
    "GET /api/v1/me": () => json({ user: { ...ada, email_verified: emailVerified() }, csrf_token: "csrf-1" }),
    "GET /api/v1/platforms": () => json({ platforms: [] }),
    ...answers,
  });
}

describe("the verification banner", () => {
  it("asks an unverified user to verify, and sends the link again on request", async () => {
    const calls = signedInAs(() => false, {
      "POST /api/v1/auth/resend-verification": () =>
        json({ status: "verification_sent", message: "We sent a new link to ada@example.com." }, 202),
    });
    renderApp("/");
    const banner = await screen.findByRole("region", { name: "Email verification" });
    expect(banner).toHaveTextContent(
      "Verify your email address: we sent a link to ada@example.com. You can connect platforms once it is verified.",
    );
    // Yellow, as a warning: not an error.
    expect(banner.className).toContain("bg-amber-50");
    expect(within(banner).queryByRole("alert")).not.toBeInTheDocument();

    fireEvent.click(within(banner).getByRole("button", { name: "Send the link again" }));
    expect(await within(banner).findByText("We sent a new link to ada@example.com.")).toBeInTheDocument();
    const sent = callsTo(calls, "POST", "/api/v1/auth/resend-verification");
    expect(sent).toHaveLength(1);
    expect(sent[0].headers.get("X-CSRF-Token")).toBe("csrf-1");
    expect(sent[0].body).toBeUndefined();
  });

  it("reads the user again when the address was verified meanwhile, and goes", async () => {
    let verified = false;
    const calls = signedInAs(() => verified, {
      "POST /api/v1/auth/resend-verification": () => {
        verified = true;
        return apiError(409, "already_verified", "This address is already verified.");
      },
    });
    renderApp("/");
    const banner = await screen.findByRole("region", { name: "Email verification" });
    const reads = callsTo(calls, "GET", "/api/v1/me").length;
    fireEvent.click(within(banner).getByRole("button", { name: "Send the link again" }));
    await waitFor(() => expect(screen.queryByRole("region", { name: "Email verification" })).not.toBeInTheDocument());
    expect(callsTo(calls, "GET", "/api/v1/me").length).toBe(reads + 1);
  });

  it("tells how long to wait when rate limited", async () => {
    signedInAs(() => false, {
      "POST /api/v1/auth/resend-verification": () =>
        apiError(429, "rate_limited", "too many", { "Retry-After": "55" }),
    });
    renderApp("/");
    const banner = await screen.findByRole("region", { name: "Email verification" });
    fireEvent.click(within(banner).getByRole("button", { name: "Send the link again" }));
    expect(await within(banner).findByText("Too many attempts. Try again in 55 seconds.")).toBeInTheDocument();
  });

  it("is not shown once the address is verified", async () => {
    signedInAs(() => true);
    renderApp("/");
    expect(await screen.findByRole("heading", { name: "Your platforms" })).toBeInTheDocument();
    expect(screen.queryByRole("region", { name: "Email verification" })).not.toBeInTheDocument();
    expect(screen.queryByText(/Verify your email address/)).not.toBeInTheDocument();
  });
});
