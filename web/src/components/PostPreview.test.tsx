import { cleanup, render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { PostPreview, firstLink, lengthLine, shortUrl } from "./PostPreview";

// Bluesky's rules, as GET /api/v1/platforms gives them.
const bluesky = { max_chars: 300, unit: "graphemes" as const, max_bytes: 3000 };

function preview(
  platformId: string,
  text: string,
  rules: { max_chars: number; unit?: "characters" | "graphemes"; max_bytes?: number; url_weight?: number },
) {
  render(<PostPreview platformId={platformId} platformName={platformId === "bluesky" ? "Bluesky" : "Manch"} rules={rules} text={text} />);
  return screen.getByTestId(`preview-${platformId}`);
}

describe("PostPreview", () => {
  it("shows Bluesky's links shortened, mentions and tags highlighted", () => {
    const card = preview("bluesky", "hi @alice.test, read https://example.com/articles/2026/facets?x=1 #rust", bluesky);
    expect(screen.getByRole("region", { name: "Preview on Bluesky" })).toBe(card);
    const link = within(card).getByText("example.com/articles/202…");
    expect(link).toHaveClass("text-sky-600");
    expect(link).toHaveAttribute("title", "https://example.com/articles/2026/facets?x=1");
    expect(within(card).getByText("@alice.test")).toHaveClass("text-sky-600");
    expect(within(card).getByText("#rust")).toHaveClass("text-sky-600");
    expect(card).not.toHaveTextContent("over");
  });

  it("shows other platforms' text plain, line breaks kept", () => {
    const card = preview("manch", "line one\n@alice.test example.com", { max_chars: 500 });
    const body = within(card).getByText(/line one/);
    expect(body.textContent).toBe("line one\n@alice.test example.com");
    expect(body).toHaveClass("whitespace-pre-wrap");
    expect(body.querySelector("span")).toBeNull();
  });

  it("strikes out what passes the limit, counted in the platform's unit", () => {
    const card = preview("bluesky", "héllo 👋🏽!", { ...bluesky, max_chars: 5 });
    expect(card.querySelector("del")?.textContent).toBe(" 👋🏽!");
    expect(within(card).getByText("3 characters over")).toHaveClass("text-red-600");
  });

  it("counts code points where the platform does: an emoji with a skin tone is two", () => {
    const card = preview("manch", "héllo 👋🏽!", { max_chars: 7 });
    expect(card.querySelector("del")?.textContent).toBe("\u{1F3FD}!");
    expect(within(card).getByText("2 characters over")).toBeInTheDocument();
  });

  it("cuts at the byte limit where that comes first", () => {
    const card = preview("bluesky", "नमस्ते", { ...bluesky, max_bytes: 10 });
    expect(card.querySelector("del")).toHaveTextContent("स्ते");
    expect(within(card).getByText("8 bytes over")).toBeInTheDocument();
  });

  it("keeps a link the limit cuts whole, so the cut shows", () => {
    const card = preview("bluesky", "see https://example.com/page", { ...bluesky, max_chars: 12 });
    expect(card).toHaveTextContent("see https://example.com/page");
    expect(card.querySelector("del")).toHaveTextContent("example.com/page");
    expect(within(card).getByText("16 characters over")).toBeInTheDocument();
  });

  it("counts Mastodon's links at their weight and strikes a link that does not fit whole", () => {
    // "see " + 23 + " @ada": 32.
    const mastodon = { max_chars: 32, unit: "graphemes" as const, url_weight: 23 };
    const link = `https://example.com/${"a".repeat(60)}`;
    const fits = preview("mastodon", `see ${link} @ada@mastodon.social`, mastodon);
    expect(fits.querySelector("del")).toBeNull();
    expect(fits).not.toHaveTextContent("over");
    cleanup();
    const card = preview("mastodon", `see ${link} @ada@mastodon.social`, { ...mastodon, max_chars: 20 });
    expect(card.querySelector("del")?.textContent).toBe(`${link} @ada@mastodon.social`);
    expect(within(card).getByText("12 characters over")).toBeInTheDocument();
  });

  it("shows a content warning before the text and counts it with the text", () => {
    const rules = { max_chars: 10, unit: "graphemes" as const, max_bytes: null, url_weight: 23 };
    render(<PostPreview platformId="mastodon" platformName="Mastodon" rules={rules} text="hello!" warning="food" />);
    const card = screen.getByTestId("preview-mastodon");
    expect(within(card).getByTestId("preview-warning")).toHaveTextContent("CW: food");
    expect(card).not.toHaveTextContent("over");
    cleanup();

    render(<PostPreview platformId="mastodon" platformName="Mastodon" rules={rules} text="hello world" warning="food" />);
    const over = screen.getByTestId("preview-mastodon");
    expect(over.querySelector("del")?.textContent).toBe("world");
    expect(within(over).getByText("5 characters over")).toBeInTheDocument();
    cleanup();

    // A warning past the limit on its own: all of the text is over.
    render(<PostPreview platformId="mastodon" platformName="Mastodon" rules={rules} text="hi" warning="a long warning" />);
    expect(screen.getByTestId("preview-mastodon").querySelector("del")?.textContent).toBe("hi");
    expect(screen.getByText("6 characters over")).toBeInTheDocument();
  });

  it("shows the attachments: thumbnails with their alt text, a tile for a video", () => {
    render(
      <PostPreview
        platformId="bluesky"
        platformName="Bluesky"
        rules={bluesky}
        text="look"
        media={[
          { kind: "image", thumbnail_url: "/api/v1/media/m1/thumbnail", alt_text: "a red square" },
          { kind: "video", thumbnail_url: null, alt_text: "" },
        ]}
      />,
    );
    expect(screen.getByAltText("a red square")).toHaveAttribute("src", "/api/v1/media/m1/thumbnail");
    expect(screen.getByText("Video")).toBeInTheDocument();
  });
});

describe("PostPreview's length, link card and accounts", () => {
  it("gives the length in the platform's unit against its limit, red once over", () => {
    const ok = preview("bluesky", "héllo 👋🏽", bluesky);
    expect(within(ok).getByTestId("preview-length")).toHaveTextContent("7 / 300 graphemes");
    expect(within(ok).getByTestId("preview-length")).not.toHaveClass("text-red-600");
    expect(ok).not.toHaveAttribute("data-over");
    cleanup();
    const over = preview("manch", "héllo 👋🏽", { max_chars: 5 });
    expect(within(over).getByTestId("preview-length")).toHaveTextContent("8 / 5 characters");
    expect(within(over).getByTestId("preview-length")).toHaveClass("text-red-600");
    expect(over).toHaveAttribute("data-over", "true");
  });

  it("shows a card for the first full link, and none when pictures are attached", () => {
    const card = preview("mastodon", "read this: https://example.org/news/today.", { max_chars: 500, url_weight: 23 });
    const link = within(card).getByTestId("link-card");
    expect(link).toHaveTextContent("example.org");
    expect(link).toHaveTextContent("https://example.org/news/today");
    expect(link).not.toHaveTextContent("today.");
    cleanup();
    render(
      <PostPreview
        platformId="mastodon"
        platformName="Mastodon"
        rules={{ max_chars: 500 }}
        text="read this: https://example.org/news"
        media={[{ kind: "image", thumbnail_url: "/t.jpg", alt_text: "a cat" }]}
      />,
    );
    expect(screen.queryByTestId("link-card")).not.toBeInTheDocument();
    expect(screen.getByAltText("a cat")).toBeInTheDocument();
  });

  it("names the accounts a platform's card stands for, and marks an account's own text", () => {
    render(
      <PostPreview platformId="manch" platformName="Manch" rules={{ max_chars: 500 }} text="hi" accounts={["@ada", "@bob"]} />,
    );
    expect(screen.getByTestId("preview-manch")).toHaveTextContent("· @ada, @bob");
    expect(screen.getByTestId("preview-manch").querySelector("[data-platform-icon='manch']")).not.toBeNull();
    cleanup();
    render(
      <PostPreview platformId="manch" platformName="Manch @ada" connectionId="c1" rules={{ max_chars: 500 }} text="hi" ownText />,
    );
    expect(screen.getByTestId("preview-manch-c1")).toHaveTextContent("own text");
  });
});

describe("lengthLine and firstLink", () => {
  it("reads bytes where those run out first", () => {
    expect(lengthLine("नमस्ते", { max_chars: 300, unit: "graphemes", max_bytes: 20 })).toBe("18 / 20 bytes");
  });

  it("takes only links written out in full", () => {
    expect(firstLink("see example.com")).toBeNull();
    expect(firstLink("(see https://a.example/x)")).toBe("https://a.example/x");
    expect(firstLink("one https://a.example two https://b.example")).toBe("https://a.example");
  });
});

describe("shortUrl", () => {
  it("keeps the host and at most 13 characters of a long path", () => {
    expect(shortUrl("https://bsky.app/")).toBe("bsky.app");
    expect(shortUrl("https://example.com/short")).toBe("example.com/short");
    expect(shortUrl("https://example.com/a/long/path/here")).toBe("example.com/a/long/path/…");
    expect(shortUrl("not a url")).toBe("not a url");
  });
});
