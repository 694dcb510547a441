import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AuthProvider } from "../auth";
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

afterEach(() => vi.unstubAllGlobals());

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
        Promise.resolve(respond(409, { error: { code: "email_taken", message: "that email is already registered" } })),
      );
    renderForm("signup", fetch);
    await userEvent.type(screen.getByLabelText("Email"), "ada@example.com");
    await userEvent.type(screen.getByLabelText("Password"), "correct horse battery");
    await userEvent.click(screen.getByRole("button", { name: "Sign up" }));
    expect(await screen.findByText("that email is already registered")).toBeInTheDocument();
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
});
