import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, api, request, setCsrfToken } from "./client";

function answer(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(body === null ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
});

describe("request", () => {
  it("sends the CSRF token on state changes only", async () => {
    const fetch = vi.fn().mockImplementation(() => Promise.resolve(answer(200, { ok: true })));
    vi.stubGlobal("fetch", fetch);
    setCsrfToken("token-1");
    await request("GET", "/api/v1/me");
    await request("POST", "/api/v1/posts", { content: "hi" }, { "Idempotency-Key": "k" });
    const [, get] = fetch.mock.calls[0];
    const [, post] = fetch.mock.calls[1];
    expect(get.headers["X-CSRF-Token"]).toBeUndefined();
    expect(post.headers["X-CSRF-Token"]).toBe("token-1");
    expect(post.headers["Idempotency-Key"]).toBe("k");
    expect(post.headers["Content-Type"]).toBe("application/json");
    expect(post.credentials).toBe("same-origin");
    expect(JSON.parse(post.body)).toEqual({ content: "hi" });
  });

  it("turns an error body into an ApiError with code, message and Retry-After", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn().mockResolvedValue(
        answer(429, { error: { code: "rate_limited", message: "slow down" } }, { "Retry-After": "42" }),
      ),
    );
    const error = await api.login("a@example.com", "x".repeat(12)).catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 429, code: "rate_limited", message: "slow down", retryAfter: 42 });
  });

  it("says the server cannot be reached when fetch fails", async () => {
    vi.stubGlobal("fetch", vi.fn().mockRejectedValue(new TypeError("Failed to fetch")));
    await expect(api.me()).rejects.toMatchObject({ code: "network_error" });
  });

  it("accepts 204 without a body", async () => {
    vi.stubGlobal("fetch", vi.fn().mockResolvedValue(new Response(null, { status: 204 })));
    await expect(api.logout()).resolves.toBeUndefined();
  });
});
