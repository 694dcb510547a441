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

  it("sends a second submit with the same idempotency key, even after the first was answered", async () => {
    const keys: (string | null)[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn().mockImplementation((url: string, init?: RequestInit) => {
        if (String(url).endsWith("/api/v1/posts") && init?.method === "POST") {
          keys.push(new Headers(init.headers).get("Idempotency-Key"));
          return Promise.resolve(
            new Response(JSON.stringify({ job_id: "j1", status: "pending", tasks: [] }), {
              status: 202,
              headers: { "Content-Type": "application/json" },
            }),
          );
        }
        return Promise.resolve(new Response(JSON.stringify(platforms), { headers: { "Content-Type": "application/json" } }));
      }),
    );
    render(
      <MemoryRouter>
        <Compose />
      </MemoryRouter>,
    );
    const post = await screen.findByLabelText("Post");
    fireEvent.change(post, { target: { value: "once" } });
    const publish = screen.getByRole("button", { name: "Publish now" });
    fireEvent.click(publish);
    await vi.waitFor(() => expect(keys).toHaveLength(1));
    fireEvent.submit(publish.closest("form")!);
    await vi.waitFor(() => expect(keys).toHaveLength(2));
    expect(keys[0]).toBeTruthy();
    expect(keys[1]).toBe(keys[0]);
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
