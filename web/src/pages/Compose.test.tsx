import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setCsrfToken } from "../api/client";
import { FakeEventSource } from "../test-events";
import { apiError, callsTo, fakeServer, renderApp } from "../test-fetch";
import { FakeXhr, mediaView } from "../test-xhr";
import { Compose } from "./Compose";

const platforms = {
  platforms: [
    {
      id: "manch",
      name: "Manch",
      rules: {
        max_chars: 10,
        media: {
          max_count: 4,
          max_image_bytes: 8 * 1024 * 1024,
          max_video_bytes: 200 * 1024 * 1024,
          types: ["image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4"],
          video_alone: true,
          alt_text_required: false,
        },
      },
      state: "active",
      connections: [{ id: "c1", platform: "manch", handle: "ada", display_name: "Ada", status: "active" }],
    },
  ],
};

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
  FakeXhr.sent = [];
});

function json(body: unknown, status = 200) {
  return Promise.resolve(new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } }));
}

/** A fetch standing in for the server: records every call, answers posts and media changes. */
function server(list: unknown = platforms) {
  const calls: { method: string; url: string; body: unknown; headers: Headers }[] = [];
  const fetch = vi.fn().mockImplementation((url: string, init?: RequestInit) => {
    const method = init?.method ?? "GET";
    const body = typeof init?.body === "string" ? JSON.parse(init.body) : undefined;
    calls.push({ method, url: String(url), body, headers: new Headers(init?.headers) });
    if (method === "POST" && url === "/api/v1/posts") return json({ post_id: "p1", job_id: "j1" }, 202);
    const media = /^\/api\/v1\/media\/([^/]+)$/.exec(url);
    if (media && method === "PATCH") return json(mediaView(media[1], { alt_text: (body as { alt_text: string }).alt_text }));
    if (media && method === "DELETE") return json({ error: { code: "media_in_use", message: "in use" } }, 409);
    return json(list);
  });
  vi.stubGlobal("fetch", fetch);
  vi.stubGlobal("XMLHttpRequest", FakeXhr);
  return calls;
}

function png(name: string) {
  return new File([new Uint8Array([137, 80, 78, 71])], name, { type: "image/png" });
}

async function renderComposer() {
  render(
    <MemoryRouter>
      <Compose />
    </MemoryRouter>,
  );
  const post = await screen.findByLabelText("Post");
  fireEvent.change(post, { target: { value: "look" } });
}

function attach(...files: File[]) {
  fireEvent.change(screen.getByLabelText("Add images or video"), { target: { files } });
}

/** Manch, Mastodon and Bluesky, one account each; Mastodon at 20 characters. */
function withOptionPlatforms() {
  const manch = platforms.platforms[0];
  const rules = { unit: "graphemes", max_bytes: null, media: manch.rules.media };
  const account = (id: string, platform: string, handle: string) => ({
    id,
    platform,
    handle,
    display_name: handle,
    status: "active",
  });
  return {
    platforms: [
      { ...manch, rules: { ...manch.rules, max_chars: 500 } },
      {
        id: "mastodon",
        name: "Mastodon",
        asks_for_server: true,
        rules: { ...rules, max_chars: 20, url_weight: 23 },
        state: "active",
        connections: [account("m1", "mastodon", "hal@fosstodon.org")],
      },
      {
        id: "bluesky",
        name: "Bluesky",
        asks_for_server: false,
        rules: { ...rules, max_chars: 300, max_bytes: 3000 },
        state: "active",
        connections: [account("b1", "bluesky", "ada.bsky.social")],
      },
    ],
  };
}

async function published(calls: ReturnType<typeof server>) {
  fireEvent.click(screen.getByRole("button", { name: "Publish now" }));
  await waitFor(() => expect(calls.some((c) => c.url === "/api/v1/posts")).toBe(true));
  return calls.find((c) => c.url === "/api/v1/posts")!.body as Record<string, unknown>;
}

describe("Compose", () => {
  it("lists each account with its avatar and display name beside its platform and handle", async () => {
    vi.stubGlobal("fetch", vi.fn().mockImplementation(() => json(withOptionPlatforms())));
    render(
      <MemoryRouter>
        <Compose />
      </MemoryRouter>,
    );
    const box = await screen.findByRole("checkbox", { name: "Ada Manch @ada" });
    const row = box.closest("label") as HTMLElement;
    const avatar = within(row).getByTestId("account-avatar");
    expect(avatar).toHaveTextContent(/^A$/);
    expect(avatar).toHaveAttribute("aria-hidden", "true");
    expect(avatar.className).toMatch(/rounded-full/);
    // A display name that is only the handle again is not written twice.
    const hal = screen.getByRole("checkbox", { name: "Mastodon @hal@fosstodon.org" }).closest("label") as HTMLElement;
    expect(within(hal).getByTestId("account-avatar")).toHaveTextContent(/^H$/);
  });

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
    expect(screen.getByRole("checkbox", { name: "Ada Manch @ada" })).toBeChecked();
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

  it("counts for an account with its own limits as its server does, and blocks publishing over them", async () => {
    const mediaRules = platforms.platforms[0].rules.media;
    const hal = {
      id: "c9",
      platform: "mastodon",
      handle: "hal@fosstodon.org",
      display_name: "Hal",
      status: "active",
      service_url: "https://fosstodon.org",
      rules: { max_chars: 60, unit: "graphemes", max_bytes: null, url_weight: 23, media: mediaRules },
    };
    const ada = { ...hal, id: "c8", handle: "ada@mastodon.social", service_url: "https://mastodon.social", rules: undefined };
    const list = {
      platforms: [
        { ...platforms.platforms[0], rules: { ...platforms.platforms[0].rules, max_chars: 500 } },
        {
          id: "mastodon",
          name: "Mastodon",
          connect_with: ["redirect"],
          asks_for_server: true,
          rules: { max_chars: 500, unit: "graphemes", max_bytes: null, url_weight: 23, media: mediaRules },
          state: "active",
          connections: [hal, ada],
        },
      ],
    };
    vi.stubGlobal("fetch", vi.fn().mockImplementation(() => json(list)));
    render(
      <MemoryRouter>
        <Compose />
      </MemoryRouter>,
    );
    const post = await screen.findByLabelText("Post");
    // "hi @bob " (the mention's server is not counted), 23 for the link however long, a space, 27 more: 59.
    const text = `hi @bob@example.social https://example.com/${"a".repeat(100)} ${"x".repeat(27)}`;
    fireEvent.change(post, { target: { value: text } });
    const own = await screen.findByTestId("counter-mastodon-c9");
    expect(own).toHaveTextContent("Mastodon @hal@fosstodon.org 59 / 60");
    expect(own).not.toHaveClass("text-red-600");
    // The other accounts keep their platform's counters.
    expect(screen.getByTestId("counter-mastodon")).toHaveTextContent("Mastodon: 59 / 500");
    expect(screen.getByTestId("counter-manch")).toHaveTextContent(`Manch: ${Array.from(text).length} / 500`);
    expect(screen.getByRole("button", { name: "Publish now" })).toBeEnabled();

    fireEvent.change(post, { target: { value: `${text}!!` } });
    await waitFor(() => expect(screen.getByTestId("counter-mastodon-c9")).toHaveTextContent("61 / 60 — too long"));
    expect(screen.getByTestId("counter-mastodon-c9")).toHaveClass("text-red-600");
    expect(screen.getByTestId("counter-mastodon")).not.toHaveClass("text-red-600");
    expect(screen.getByRole("button", { name: "Publish now" })).toBeDisabled();
    expect(within(screen.getByTestId("preview-mastodon-c9")).getByText("1 character over")).toBeInTheDocument();
    expect(within(screen.getByTestId("preview-mastodon")).queryByText(/over/)).not.toBeInTheDocument();

    // Without that account, the post fits everywhere it goes.
    fireEvent.click(screen.getByRole("checkbox", { name: "Hal Mastodon @hal@fosstodon.org" }));
    await waitFor(() => expect(screen.queryByTestId("counter-mastodon-c9")).not.toBeInTheDocument());
    expect(screen.getByRole("button", { name: "Publish now" })).toBeEnabled();
    // With only that account chosen on Mastodon, its counter replaces the platform's.
    fireEvent.click(screen.getByRole("checkbox", { name: "Hal Mastodon @hal@fosstodon.org" }));
    fireEvent.click(screen.getByRole("checkbox", { name: "Hal Mastodon @ada@mastodon.social" }));
    expect(await screen.findByTestId("counter-mastodon-c9")).toBeInTheDocument();
    expect(screen.queryByTestId("counter-mastodon")).not.toBeInTheDocument();
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

  it("uploads attached files at once and publishes their ids in the order shown", async () => {
    const calls = server();
    setCsrfToken("csrf-1");
    await renderComposer();
    attach(png("first.png"), png("second.png"));

    expect(FakeXhr.sent).toHaveLength(2);
    const [first, second] = FakeXhr.sent;
    expect(first).toMatchObject({ method: "POST", url: "/api/v1/media" });
    expect(first.headers["X-CSRF-Token"]).toBe("csrf-1");
    expect((first.body as File).name).toBe("first.png");
    act(() => first.progress(30, 100));
    expect(screen.getByRole("progressbar", { name: "Uploading first.png" })).toHaveAttribute("value", "30");
    expect(screen.getByRole("button", { name: "Publish now" })).toBeDisabled();
    expect(screen.getByText("Publishing waits for the uploads to finish.")).toBeInTheDocument();

    await act(async () => first.respond(201, mediaView("m1")));
    await act(async () => second.respond(201, mediaView("m2")));
    expect(screen.queryByRole("progressbar")).not.toBeInTheDocument();
    const items = screen.getAllByTestId("attachment");
    expect(items[0].querySelector("img")).toHaveAttribute("src", "/api/v1/media/m1/thumbnail");

    // Second first: the keyboard-usable reorder buttons.
    expect(screen.getByRole("button", { name: "Move first.png up" })).toBeDisabled();
    fireEvent.click(screen.getByRole("button", { name: "Move second.png up" }));
    expect(screen.getAllByTestId("attachment")[0]).toHaveTextContent("second.png");
    expect(screen.getByRole("button", { name: "Move second.png down" })).toHaveFocus();

    const alt = screen.getByLabelText("Alt text for first.png");
    fireEvent.change(alt, { target: { value: "A red square " } });
    expect(screen.getByText("13 / 1,500")).toBeInTheDocument();
    fireEvent.blur(alt);
    await screen.findByText("Saved");
    const patch = calls.find((c) => c.method === "PATCH");
    expect(patch).toMatchObject({ url: "/api/v1/media/m1", body: { alt_text: "A red square" } });
    expect(patch!.headers.get("X-CSRF-Token")).toBe("csrf-1");

    expect(screen.queryByTestId("media-note-manch")).not.toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: "Publish now" }));
    await waitFor(() => expect(calls.some((c) => c.url === "/api/v1/posts")).toBe(true));
    const publish = calls.find((c) => c.url === "/api/v1/posts")!;
    expect(publish.body).toEqual({ content: "look", connection_ids: ["c1"], media_ids: ["m2", "m1"] });
    // Published: the attachments leave the composer.
    await waitFor(() => expect(screen.queryAllByTestId("attachment")).toHaveLength(0));
  });

  it("saves alt text typed just before publishing, before the post is sent", async () => {
    const calls = server();
    await renderComposer();
    attach(png("dot.png"));
    await act(async () => FakeXhr.sent[0].respond(201, mediaView("m1")));
    fireEvent.change(screen.getByLabelText("Alt text for dot.png"), { target: { value: "a dot" } });
    fireEvent.click(screen.getByRole("button", { name: "Publish now" }));
    await waitFor(() => expect(calls.some((c) => c.url === "/api/v1/posts")).toBe(true));
    const order = calls.filter((c) => c.method !== "GET").map((c) => `${c.method} ${c.url}`);
    expect(order).toEqual(["PATCH /api/v1/media/m1", "POST /api/v1/posts"]);
  });

  it("shows the server's refusal next to the file, with Remove", async () => {
    server();
    await renderComposer();
    attach(png("notes.png"));
    await act(async () =>
      FakeXhr.sent[0].respond(422, {
        error: { code: "unsupported_media", message: "the file is not a JPEG, PNG, GIF, WebP or MP4 image or video" },
      }),
    );
    expect(screen.getByRole("alert")).toHaveTextContent("Not attached: the file is not a JPEG, PNG, GIF, WebP or MP4");
    expect(screen.getByRole("button", { name: "Publish now" })).toBeDisabled();
    fireEvent.click(screen.getByRole("button", { name: "Remove notes.png" }));
    expect(screen.queryByTestId("attachment")).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Publish now" })).toBeEnabled();
  });

  it("notes a broken platform rule and blocks publishing until it is fixed", async () => {
    const calls = server();
    await renderComposer();
    attach(...["1", "2", "3", "4", "5"].map((n) => png(`${n}.png`)));
    for (const [i, xhr] of FakeXhr.sent.entries()) await act(async () => xhr.respond(201, mediaView(`m${i + 1}`)));
    expect(screen.getByTestId("media-note-manch")).toHaveTextContent("Manch takes at most 4 attachments (you have 5).");
    expect(screen.getByRole("button", { name: "Publish now" })).toBeDisabled();

    // In use by another post (409): it only leaves this one.
    fireEvent.click(screen.getByRole("button", { name: "Remove 5.png" }));
    expect(screen.getAllByTestId("attachment")).toHaveLength(4);
    expect(calls.find((c) => c.method === "DELETE")?.url).toBe("/api/v1/media/m5");
    expect(screen.queryByTestId("media-note-manch")).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Publish now" })).toBeEnabled();
  });

  it("attaches files dropped onto the composer", async () => {
    server();
    await renderComposer();
    const composer = screen.getByRole("heading", { name: "Compose" }).parentElement!;
    const dataTransfer = { types: ["Files"], files: [png("dropped.png")], dropEffect: "none" };
    fireEvent.dragEnter(composer, { dataTransfer });
    expect(screen.getByText("Drop to attach")).toBeInTheDocument();
    fireEvent.drop(composer, { dataTransfer });
    expect(screen.queryByText("Drop to attach")).not.toBeInTheDocument();
    expect(FakeXhr.sent.map((x) => (x.body as File).name)).toEqual(["dropped.png"]);
  });

  it("refuses a file type no platform takes without uploading it", async () => {
    server();
    await renderComposer();
    attach(new File(["%PDF"], "cv.pdf", { type: "application/pdf" }));
    expect(FakeXhr.sent).toHaveLength(0);
    expect(screen.getByRole("alert")).toHaveTextContent("Only JPEG, PNG, GIF and WebP images and MP4 videos");
  });

  describe("post options", () => {
    afterEach(() => vi.restoreAllMocks());

    it("sends the options set for the platforms that take them", async () => {
      const calls = server(withOptionPlatforms());
      await renderComposer();
      expect(screen.getByText("Post options")).toBeInTheDocument();
      expect(screen.getByLabelText("Visibility")).toHaveValue("public");
      expect(screen.getByLabelText("Content warning")).toHaveAttribute("placeholder", "e.g. spoilers");
      fireEvent.change(screen.getByLabelText("Visibility"), { target: { value: "followers" } });
      fireEvent.change(screen.getByLabelText("Content warning"), { target: { value: " spoilers " } });
      fireEvent.change(screen.getByLabelText("Language"), { target: { value: "hi" } });
      expect(await published(calls)).toEqual({
        content: "look",
        connection_ids: ["c1", "m1", "b1"],
        options: { visibility: "followers", content_warning: "spoilers", language: "hi" },
      });
    });

    it("sends no options when none is set", async () => {
      const calls = server(withOptionPlatforms());
      await renderComposer();
      fireEvent.change(screen.getByLabelText("Language"), { target: { value: "" } });
      const body = await published(calls);
      expect(body).toEqual({ content: "look", connection_ids: ["c1", "m1", "b1"] });
      expect(body).not.toHaveProperty("options");
    });

    it("defaults the language to the browser's, and offers Bluesky only the language", async () => {
      vi.spyOn(navigator, "language", "get").mockReturnValue("de-AT");
      const calls = server(withOptionPlatforms());
      await renderComposer();
      fireEvent.click(screen.getByRole("checkbox", { name: "Mastodon @hal@fosstodon.org" }));
      fireEvent.click(screen.getByRole("checkbox", { name: "Ada Manch @ada" }));
      expect(screen.getByLabelText("Language")).toHaveValue("de");
      expect(screen.queryByLabelText("Visibility")).not.toBeInTheDocument();
      expect(screen.queryByLabelText("Content warning")).not.toBeInTheDocument();
      expect((await published(calls)).options).toEqual({ language: "de" });
    });

    it("leaves the language out when the browser's is not offered, and shows no options for Manch alone", async () => {
      vi.spyOn(navigator, "language", "get").mockReturnValue("xx-YY");
      const calls = server(withOptionPlatforms());
      await renderComposer();
      expect(screen.getByLabelText("Language")).toHaveValue("");
      fireEvent.click(screen.getByRole("checkbox", { name: "Mastodon @hal@fosstodon.org" }));
      fireEvent.click(screen.getByRole("checkbox", { name: "Bluesky @ada.bsky.social" }));
      expect(screen.queryByText("Post options")).not.toBeInTheDocument();
      expect(await published(calls)).toEqual({ content: "look", connection_ids: ["c1"] });
    });

    it("counts the content warning towards Mastodon's limit and blocks publishing over it", async () => {
      server(withOptionPlatforms());
      await renderComposer();
      const counter = screen.getByTestId("counter-mastodon");
      expect(counter).toHaveTextContent("Mastodon: 4 / 20");
      expect(screen.queryByText("the content warning counts too")).not.toBeInTheDocument();

      const warning = screen.getByLabelText("Content warning");
      fireEvent.change(warning, { target: { value: "spoilers for ep. 5" } });
      expect(screen.getByTestId("counter-mastodon")).toHaveTextContent("Mastodon: 22 / 20 — too long");
      expect(screen.getByTestId("counter-mastodon")).toHaveClass("text-red-600");
      expect(within(screen.getByTestId("counter-mastodon")).getByText("the content warning counts too")).toBeInTheDocument();
      // The others count the text alone.
      expect(screen.getByTestId("counter-bluesky")).toHaveTextContent("Bluesky: 4 / 300");
      expect(screen.getByTestId("counter-manch")).toHaveTextContent("Manch: 4 / 500");
      expect(screen.getByRole("button", { name: "Publish now" })).toBeDisabled();
      expect(within(screen.getByTestId("preview-mastodon")).getByText("2 characters over")).toBeInTheDocument();

      fireEvent.change(warning, { target: { value: "spoilers" } });
      expect(screen.getByTestId("counter-mastodon")).toHaveTextContent("Mastodon: 12 / 20");
      expect(screen.getByRole("button", { name: "Publish now" })).toBeEnabled();

      // Without Mastodon, its warning is neither counted nor sent.
      fireEvent.change(warning, { target: { value: "spoilers for ep. 5" } });
      fireEvent.click(screen.getByRole("checkbox", { name: "Mastodon @hal@fosstodon.org" }));
      expect(screen.getByTestId("counter-mastodon")).toHaveTextContent("Mastodon: 4 / 20");
      expect(screen.getByRole("button", { name: "Publish now" })).toBeEnabled();
    });

    it("counts the content warning for an account with its own limits", async () => {
      const list = withOptionPlatforms();
      const mastodon = list.platforms[1] as (typeof list.platforms)[1] & { connections: Record<string, unknown>[] };
      mastodon.connections[0].rules = { ...mastodon.rules, max_chars: 10 };
      server(list);
      await renderComposer();
      expect(screen.getByTestId("counter-mastodon-m1")).toHaveTextContent("Mastodon @hal@fosstodon.org 4 / 10");
      fireEvent.change(screen.getByLabelText("Content warning"), { target: { value: "cw: food" } });
      expect(screen.getByTestId("counter-mastodon-m1")).toHaveTextContent("12 / 10 — too long");
      expect(screen.getByRole("button", { name: "Publish now" })).toBeDisabled();
    });

    it("shows the server's refusal of an option", async () => {
      const list = withOptionPlatforms();
      vi.stubGlobal(
        "fetch",
        vi.fn().mockImplementation((url: string, init?: RequestInit) =>
          init?.method === "POST" && url === "/api/v1/posts"
            ? json({ error: { code: "invalid_options", message: "language `xx` is not a two-letter ISO 639-1 code such as en or hi" } }, 422)
            : json(list),
        ),
      );
      await renderComposer();
      fireEvent.click(screen.getByRole("button", { name: "Publish now" }));
      expect(await screen.findByRole("alert")).toHaveTextContent("is not a two-letter ISO 639-1 code");
    });
  });

  describe("Matrix", () => {
    /** Manch, and a Matrix account: one with a room picked, or none. */
    const withMatrix = (picked: boolean) => ({
      platforms: [
        platforms.platforms[0],
        {
          id: "matrix",
          name: "Matrix",
          sign_in_names_server: true,
          has_destinations: true,
          rules: { ...platforms.platforms[0].rules, max_chars: 30000, unit: "characters", max_bytes: 30000 },
          state: "active",
          connections: [
            {
              id: "x1",
              platform: "matrix",
              handle: "@alice:localhost",
              display_name: "Alice",
              status: "active",
              destinations: [
                { id: "!a:localhost", name: "Announcements", selected: picked },
                { id: "!r:localhost", name: "Random", selected: false },
              ],
            },
          ],
        },
      ],
    });

    it("counts up to 30,000, and in bytes where those run out first", async () => {
      server(withMatrix(true));
      await renderComposer();
      const counter = screen.getByTestId("counter-matrix");
      expect(counter).toHaveTextContent("Matrix: 4 / 30,000");
      // Devanagari is three bytes a character: the bytes are what run out.
      fireEvent.change(screen.getByLabelText("Post"), { target: { value: "नमस्ते" } });
      expect(counter).toHaveTextContent("Matrix: 18 / 30,000 bytes");
      fireEvent.change(screen.getByLabelText("Post"), { target: { value: "न".repeat(10001) } });
      expect(counter).toHaveTextContent("Matrix: 30,003 / 30,000 bytes — too long");
      expect(counter).toHaveClass("text-red-600");
      expect(screen.getByRole("button", { name: "Publish now" })).toBeDisabled();
    });

    it("names the rooms a Matrix account posts to, or asks for one", async () => {
      server(withMatrix(true));
      await renderComposer();
      expect(screen.getByRole("checkbox", { name: "Alice Matrix @alice:localhost" })).toHaveAccessibleDescription("· Announcements");
    });

    it("sends a Matrix account with no room picked, and shows the server's refusal", async () => {
      const list = withMatrix(false);
      vi.stubGlobal(
        "fetch",
        vi.fn().mockImplementation((url: string, init?: RequestInit) =>
          init?.method === "POST" && url === "/api/v1/posts"
            ? json({ error: { code: "no_destination", message: "pick a room for @alice:localhost on the dashboard" } }, 422)
            : json(list),
        ),
      );
      await renderComposer();
      const alice = screen.getByRole("checkbox", { name: "Alice Matrix @alice:localhost" });
      expect(alice).toHaveAccessibleDescription("· no room picked: pick one on the dashboard");
      expect(screen.getByRole("link", { name: "pick one on the dashboard" })).toHaveAttribute("href", "/");
      fireEvent.click(screen.getByRole("button", { name: "Publish now" }));
      expect(await screen.findByRole("alert")).toHaveTextContent("pick a room for @alice:localhost on the dashboard");
    });
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

  describe("the draft", () => {
    const J1 = "5f0c6a0e-4d1b-4b7e-9a3c-0b6a8f1d2e3c";
    const ada = { id: "u1", email: "ada@example.com", role: "user", email_verified: true };
    const KEY = "prasaran:compose-draft:u1";

    afterEach(() => {
      localStorage.clear();
      FakeEventSource.opened = [];
    });

    /** Signed in as Ada, with Manch, Mastodon and Bluesky accounts. */
    function signedIn(answers: Parameters<typeof fakeServer>[0] = {}) {
      vi.stubGlobal("EventSource", FakeEventSource);
      return fakeServer({
        "GET /api/v1/me": () => json({ user: ada, csrf_token: "csrf-1" }),
        "GET /api/v1/platforms": () => json(withOptionPlatforms()),
        "GET /api/v1/posts?limit=10": () => json({ posts: [], next_cursor: null }),
        "POST /api/v1/posts": () => json({ post_id: "p1", job_id: J1 }, 202),
        ...answers,
      });
    }

    const kept = () => JSON.parse(localStorage.getItem(KEY) ?? "null");

    it("keeps the text and the accounts ticked when going to History and back", async () => {
      signedIn();
      renderApp("/compose");
      fireEvent.change(await screen.findByLabelText("Post"), { target: { value: "half a thought" } });
      fireEvent.click(screen.getByRole("checkbox", { name: "Bluesky @ada.bsky.social" }));
      expect(screen.getByTestId("draft-hint")).toHaveTextContent("Draft kept on this device.");
      expect(kept()).toMatchObject({ content: "half a thought", connectionIds: ["c1", "m1"], when: "now" });

      fireEvent.click(screen.getByRole("link", { name: "History" }));
      await screen.findByRole("heading", { name: "History" });
      fireEvent.click(screen.getByRole("link", { name: "Compose" }));
      expect(await screen.findByLabelText("Post")).toHaveValue("half a thought");
      await waitFor(() => expect(screen.getByRole("checkbox", { name: "Ada Manch @ada" })).toBeChecked());
      expect(screen.getByRole("checkbox", { name: "Mastodon @hal@fosstodon.org" })).toBeChecked();
      expect(screen.getByRole("checkbox", { name: "Bluesky @ada.bsky.social" })).not.toBeChecked();
      expect(screen.getByText("Draft kept on this device.")).toBeInTheDocument();
    });

    it("comes back after a reload with its scheduled time, and only for the user who wrote it", async () => {
      localStorage.setItem(
        KEY,
        JSON.stringify({ content: "see you later", connectionIds: ["m1"], when: "later", scheduledAt: "2999-01-01T09:00" }),
      );
      localStorage.setItem("prasaran:compose-draft:u2", JSON.stringify({ content: "someone else's", connectionIds: [], when: "now" }));
      signedIn();
      renderApp("/compose");
      expect(await screen.findByLabelText("Post")).toHaveValue("see you later");
      expect(screen.getByLabelText("Schedule")).toBeChecked();
      expect(screen.getByLabelText(/^Date and time/)).toHaveValue("2999-01-01T09:00");
      await waitFor(() => expect(screen.getByRole("checkbox", { name: "Mastodon @hal@fosstodon.org" })).toBeChecked());
      expect(screen.getByRole("checkbox", { name: "Ada Manch @ada" })).not.toBeChecked();
      expect(screen.getByRole("button", { name: "Schedule" })).toBeInTheDocument();
    });

    it("starts afresh with Clear", async () => {
      localStorage.setItem(KEY, JSON.stringify({ content: "never mind", connectionIds: ["b1"], when: "now" }));
      signedIn();
      renderApp("/compose");
      expect(await screen.findByLabelText("Post")).toHaveValue("never mind");
      fireEvent.click(screen.getByRole("button", { name: "Clear" }));
      expect(screen.getByLabelText("Post")).toHaveValue("");
      await waitFor(() => expect(screen.getByLabelText("Post")).toHaveFocus());
      expect(screen.queryByText("Draft kept on this device.")).not.toBeInTheDocument();
      expect(localStorage.getItem(KEY)).toBeNull();
      // Every account is ticked again, as for a new post.
      expect(screen.getByRole("checkbox", { name: "Ada Manch @ada" })).toBeChecked();
      expect(screen.getByRole("checkbox", { name: "Bluesky @ada.bsky.social" })).toBeChecked();
    });

    it("is kept when publishing fails, and dropped once the post is scheduled", async () => {
      let refuse = true;
      const calls = signedIn({
        "POST /api/v1/posts": () =>
          refuse
            ? apiError(503, "unavailable", "try again in a moment")
            : json({ post_id: "p1", job_id: J1 }, 202),
      });
      localStorage.setItem(
        KEY,
        JSON.stringify({ content: "see you later", connectionIds: ["c1"], when: "later", scheduledAt: "2999-01-01T09:00" }),
      );
      renderApp("/compose");
      await waitFor(() => expect(screen.getByRole("checkbox", { name: "Ada Manch @ada" })).toBeChecked());
      fireEvent.click(screen.getByRole("button", { name: "Schedule" }));
      expect(await screen.findByRole("alert")).toHaveTextContent("try again in a moment");
      expect(kept()).toMatchObject({ content: "see you later", scheduledAt: "2999-01-01T09:00" });

      refuse = false;
      fireEvent.click(screen.getByRole("button", { name: "Schedule" }));
      expect(await screen.findByText("Loading the publish…")).toBeInTheDocument();
      // The job page has opened its stream (before the test's stand-ins are taken away).
      await waitFor(() => expect(FakeEventSource.opened.map((e) => e.url)).toContain(`/api/v1/jobs/${J1}/events`));
      const sent = callsTo(calls, "POST", "/api/v1/posts");
      expect(sent[sent.length - 1].body).toMatchObject({ content: "see you later", connection_ids: ["c1"] });
      expect((sent[sent.length - 1].body as { scheduled_at?: string }).scheduled_at).toMatch(/^2999-01-01T09:00:00/);
      expect(localStorage.getItem(KEY)).toBeNull();
    });
  });
});
