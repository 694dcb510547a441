import { fireEvent, render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Compose } from "./Compose";

const platforms = {
  platforms: [
    {
      id: "manch",
      name: "Manch",
      rules: { max_chars: 10 },
      state: "active",
      connections: [{ id: "c1", platform: "manch", handle: "ada", display_name: "Ada", status: "active" }],
    },
  ],
};

afterEach(() => vi.unstubAllGlobals());

describe("Compose", () => {
  it("counts per platform, turns red over the limit and blocks publishing", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn().mockImplementation(() =>
        Promise.resolve(new Response(JSON.stringify(platforms), { headers: { "Content-Type": "application/json" } })),
      ),
    );
    render(
      <MemoryRouter>
        <Compose />
      </MemoryRouter>,
    );
    const post = await screen.findByLabelText("Post");
    expect(screen.getByLabelText("Manch @ada")).toBeChecked();
    fireEvent.change(post, { target: { value: "héllo 👋🏽" } });
    const counter = await screen.findByTestId("counter-manch");
    expect(counter).toHaveTextContent("Manch: 8 / 10");
    expect(counter).not.toHaveClass("text-red-600");
    expect(screen.getByRole("button", { name: "Publish now" })).toBeEnabled();

    fireEvent.change(post, { target: { value: "eleven char" } });
    expect(await screen.findByText(/too long/)).toBeInTheDocument();
    expect(screen.getByTestId("counter-manch")).toHaveClass("text-red-600");
    expect(screen.getByRole("button", { name: "Publish now" })).toBeDisabled();
  });

  it("says how to get started when no account is connected", async () => {
    const none = { platforms: [{ ...platforms.platforms[0], state: "not_connected", connections: [] }] };
    vi.stubGlobal(
      "fetch",
      vi.fn().mockImplementation(() =>
        Promise.resolve(new Response(JSON.stringify(none), { headers: { "Content-Type": "application/json" } })),
      ),
    );
    render(
      <MemoryRouter>
        <Compose />
      </MemoryRouter>,
    );
    expect(await screen.findByText("No connected accounts yet")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Connect a platform" })).toHaveAttribute("href", "/");
  });
});
