import { afterEach, describe, expect, it, vi } from "vitest";
import { FakeXhr, mediaView } from "../test-xhr";
import { ApiError, allPosts, api, postsPath, request, setCsrfToken, uploadMedia } from "./client";

function answer(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(body === null ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
  FakeXhr.sent = [];
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

describe("authorize", () => {
  it("sends the server only when one is given", async () => {
    const fetch = vi.fn().mockImplementation(() => Promise.resolve(answer(200, { authorize_url: "https://x/authorize" })));
    vi.stubGlobal("fetch", fetch);
    await expect(api.authorize("manch")).resolves.toEqual({ authorize_url: "https://x/authorize" });
    await api.authorize("mastodon", "fosstodon.org");
    const [[url, plain], [, withServer]] = fetch.mock.calls;
    expect(url).toBe("/api/v1/connections/manch/authorize");
    expect(plain.method).toBe("POST");
    expect(plain.body).toBeUndefined();
    expect(plain.headers["Content-Type"]).toBeUndefined();
    expect(JSON.parse(withServer.body)).toEqual({ server: "fosstodon.org" });
    expect(withServer.headers["Content-Type"]).toBe("application/json");
  });

  it("answers a refused server as an ApiError with its code", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn().mockResolvedValue(answer(422, { error: { code: "server_required", message: "name your server" } })),
    );
    await expect(api.authorize("mastodon")).rejects.toMatchObject({ status: 422, code: "server_required" });
  });
});

describe("signIn", () => {
  it("sends the server only when one is given", async () => {
    const fetch = vi.fn().mockImplementation(() => Promise.resolve(answer(201, { id: "m1" })));
    vi.stubGlobal("fetch", fetch);
    await api.signIn("bluesky", "ada.test", "app-pass");
    await api.signIn("matrix", "@alice:example.org", "pw", "matrix.example.org");
    const [[url, plain], [matrixUrl, withServer]] = fetch.mock.calls;
    expect(url).toBe("/api/v1/connections/bluesky/sign-in");
    expect(JSON.parse(plain.body)).toEqual({ identifier: "ada.test", password: "app-pass" });
    expect(matrixUrl).toBe("/api/v1/connections/matrix/sign-in");
    expect(JSON.parse(withServer.body)).toEqual({
      identifier: "@alice:example.org",
      password: "pw",
      server: "matrix.example.org",
    });
  });
});

describe("pickDestinations", () => {
  it("puts the picked ids with the CSRF token", async () => {
    const fetch = vi.fn().mockImplementation(() => Promise.resolve(answer(200, { id: "m1", destinations: [] })));
    vi.stubGlobal("fetch", fetch);
    setCsrfToken("token-1");
    await api.pickDestinations("m1", ["!a:example.org"]);
    const [[url, init]] = fetch.mock.calls;
    expect(url).toBe("/api/v1/connections/m1/destinations");
    expect(init.method).toBe("PUT");
    expect(init.headers["X-CSRF-Token"]).toBe("token-1");
    expect(JSON.parse(init.body)).toEqual({ selected: ["!a:example.org"] });
  });
});

describe("uploadMedia", () => {
  it("sends the raw file with the CSRF token, reports progress and answers the media", async () => {
    vi.stubGlobal("XMLHttpRequest", FakeXhr);
    setCsrfToken("token-1");
    const file = new File([new Uint8Array([137, 80, 78, 71])], "dot.png", { type: "image/png" });
    const progress: number[] = [];
    const upload = uploadMedia(file, (f) => progress.push(f));
    const [xhr] = FakeXhr.sent;
    expect(xhr).toMatchObject({ method: "POST", url: "/api/v1/media", body: file });
    expect(xhr.headers).toMatchObject({ "X-CSRF-Token": "token-1", "Content-Type": "image/png" });
    xhr.progress(2, 4);
    xhr.respond(201, mediaView("m1"));
    await expect(upload.done).resolves.toMatchObject({ id: "m1", kind: "image" });
    expect(progress).toEqual([0.5, 1]);
  });

  it("turns the server's refusal into an ApiError, and a stop into `aborted`", async () => {
    vi.stubGlobal("XMLHttpRequest", FakeXhr);
    const refused = uploadMedia(new Blob(["nope"]), () => {});
    expect(FakeXhr.sent[0].headers["Content-Type"]).toBe("application/octet-stream");
    FakeXhr.sent[0].respond(422, { error: { code: "unsupported_media", message: "not an image" } });
    await expect(refused.done).rejects.toMatchObject({ status: 422, code: "unsupported_media", message: "not an image" });

    const stopped = uploadMedia(new Blob(["x"]), () => {});
    stopped.abort();
    await expect(stopped.done).rejects.toMatchObject({ code: "aborted" });
  });

  it("changes alt text with PATCH and the CSRF token", async () => {
    const fetch = vi.fn().mockResolvedValue(answer(200, mediaView("m1", { alt_text: "a dot" })));
    vi.stubGlobal("fetch", fetch);
    setCsrfToken("token-1");
    await expect(api.describeMedia("m1", "a dot")).resolves.toMatchObject({ alt_text: "a dot" });
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe("/api/v1/media/m1");
    expect(init.method).toBe("PATCH");
    expect(init.headers["X-CSRF-Token"]).toBe("token-1");
    expect(JSON.parse(init.body)).toEqual({ alt_text: "a dot" });
  });
});

describe("the list of posts", () => {
  it("puts the query's set parameters in a fixed order, encoded", () => {
    expect(postsPath({})).toBe("/api/v1/posts");
    expect(postsPath({ limit: 10 })).toBe("/api/v1/posts?limit=10");
    expect(postsPath({ cursor: "a+b", limit: 10, q: "" })).toBe("/api/v1/posts?limit=10&cursor=a%2Bb");
    expect(
      postsPath({ q: "spring sale", status: "failed", platform: "manch", to: "2026-04-01T00:00:00Z", from: "2026-03-01T00:00:00Z", order: "time", limit: 100 }),
    ).toBe(
      "/api/v1/posts?limit=100&order=time&from=2026-03-01T00%3A00%3A00Z&to=2026-04-01T00%3A00%3A00Z&status=failed&platform=manch&q=spring%20sale",
    );
  });

  it("reads every page, following the cursor, and stops at the page limit", async () => {
    const fetch = vi.fn().mockImplementation((url: string) => {
      const page = Number(new URL(url, "http://x").searchParams.get("cursor") ?? "0");
      return Promise.resolve(answer(200, { posts: [{ job_id: `j${page}` }], next_cursor: String(page + 1) }));
    });
    vi.stubGlobal("fetch", fetch);
    const posts = await allPosts({ order: "time", limit: 100 }, 3);
    expect(posts.map((p) => p.job_id)).toEqual(["j0", "j1", "j2"]);
    expect(fetch.mock.calls.map(([url]) => url)).toEqual([
      "/api/v1/posts?limit=100&order=time",
      "/api/v1/posts?limit=100&order=time&cursor=1",
      "/api/v1/posts?limit=100&order=time&cursor=2",
    ]);
  });

  it("sends drafts, edits and copies where the API takes them", async () => {
    const fetch = vi.fn().mockImplementation(() => Promise.resolve(answer(200, {})));
    vi.stubGlobal("fetch", fetch);
    await api.createDraft({ content: "" });
    await api.updateDraft("d1", { scheduled_at: null });
    await api.publishDraft("d1");
    await api.editPost("p1", { scheduled_at: "2026-03-04T09:30:00+01:00", time_zone: "Europe/Berlin" });
    await api.duplicatePost("p1");
    expect(fetch.mock.calls.map(([url, init]) => `${init.method} ${url} ${init.body ?? ""}`)).toEqual([
      'POST /api/v1/drafts {"content":""}',
      'PATCH /api/v1/drafts/d1 {"scheduled_at":null}',
      "POST /api/v1/drafts/d1/publish ",
      'PATCH /api/v1/posts/p1 {"scheduled_at":"2026-03-04T09:30:00+01:00","time_zone":"Europe/Berlin"}',
      "POST /api/v1/posts/p1/duplicate ",
    ]);
  });
});
