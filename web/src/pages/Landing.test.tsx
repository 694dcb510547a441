import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setCsrfToken } from "../api/client";
import { fakeServer, json, renderApp } from "../test-fetch";

const ada = { id: "u1", email: "ada@example.com", role: "user", email_verified: true };

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
});

describe("the landing page", () => {
  it("tells a visitor who is not logged in what Prasaran does, at /, with the ways in", async () => {
    fakeServer({});
    renderApp("/");
    expect(await screen.findByRole("heading", { level: 1, name: /Write once/ })).toBeInTheDocument();
    const platforms = screen.getByRole("list", { name: "Platforms" });
    for (const name of ["Manch", "Bluesky", "Mastodon", "Matrix"]) {
      expect(within(platforms).getByText(name)).toBeInTheDocument();
    }
    for (const feature of ["Schedule", "Calendar", "Drafts", "See it before it goes"]) {
      expect(screen.getByRole("heading", { name: feature })).toBeInTheDocument();
    }
    for (const link of screen.getAllByRole("link", { name: "Sign up" })) expect(link).toHaveAttribute("href", "/signup");
    for (const link of screen.getAllByRole("link", { name: "Log in" })) expect(link).toHaveAttribute("href", "/login");
    // It is not the signed-in app: no main menu, no sending to the login form.
    expect(screen.queryByRole("navigation", { name: "Main" })).not.toBeInTheDocument();
    expect(screen.queryByRole("heading", { name: "Log in" })).not.toBeInTheDocument();
  });

  it("leads to the sign-up form", async () => {
    fakeServer({});
    renderApp("/");
    await userEvent.click((await screen.findAllByRole("link", { name: "Sign up" }))[0]);
    expect(await screen.findByRole("heading", { name: "Create your account" })).toBeInTheDocument();
  });

  it("is not shown to a signed-in user, who lands on the dashboard", async () => {
    fakeServer({
      "GET /api/v1/me": () => json({ user: ada, csrf_token: "x" }),
      "GET /api/v1/platforms": () => json({ platforms: [] }),
    });
    renderApp("/");
    expect(await screen.findByRole("heading", { name: "Your platforms" })).toBeInTheDocument();
    expect(screen.queryByRole("heading", { name: /Write once/ })).not.toBeInTheDocument();
  });

  it("does not stand in for other pages: they still ask to log in first, and open after", async () => {
    fakeServer({
      "POST /api/v1/auth/login": () => json({ user: ada, csrf_token: "csrf-1" }),
      "GET /api/v1/posts": () => json({ posts: [], next_cursor: null }),
    });
    renderApp("/queue");
    expect(await screen.findByRole("heading", { name: "Log in" })).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText("Email"), "ada@example.com");
    await userEvent.type(screen.getByLabelText("Password"), "correct horse battery staple");
    await userEvent.click(screen.getByRole("button", { name: "Log in" }));
    expect(await screen.findByRole("heading", { name: "Queue" })).toBeInTheDocument();
  });
});
