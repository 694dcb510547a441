import { render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setCsrfToken } from "../api/client";
import { ApiDocs, type SwaggerRequest } from "./ApiDocs";

const bundle = vi.hoisted(() => vi.fn());
vi.mock("swagger-ui-dist/swagger-ui-bundle.js", () => ({ default: bundle }));

afterEach(() => {
  setCsrfToken(null);
  bundle.mockReset();
});

async function interceptor(): Promise<(r: SwaggerRequest) => SwaggerRequest> {
  render(
    <MemoryRouter>
      <ApiDocs />
    </MemoryRouter>,
  );
  await waitFor(() => expect(bundle).toHaveBeenCalledTimes(1));
  const options = bundle.mock.calls[0][0] as { url: string; requestInterceptor: (r: SwaggerRequest) => SwaggerRequest };
  expect(options.url).toBe("/api/openapi.json");
  return options.requestInterceptor;
}

describe("the API docs", () => {
  it("say Try it out uses the session and scripts a token, with a link to Settings", async () => {
    await interceptor();
    expect(screen.getByTestId("api-docs-auth-note")).toHaveTextContent(
      "Try it out uses your browser session. Scripts send an API token instead: Authorization: Bearer prs_… — make one in Settings.",
    );
    expect(screen.getByRole("link", { name: "Settings" })).toHaveAttribute("href", "/settings");
  });

  it("send the session's CSRF token with Try it out's state-changing requests to this origin only", async () => {
    const intercept = await interceptor();
    // The token current when the request goes, not when the page opened.
    setCsrfToken("csrf-now");
    const post = intercept({ url: "/api/v1/posts", method: "POST", headers: { "Content-Type": "application/json" } });
    expect(post.headers).toEqual({ "Content-Type": "application/json", "X-CSRF-Token": "csrf-now" });
    expect(post.credentials).toBe("same-origin");
    const absolute = intercept({ url: `${window.location.origin}/api/v1/jobs/x/cancel`, method: "post", headers: {} });
    expect(absolute.headers?.["X-CSRF-Token"]).toBe("csrf-now");
    expect(intercept({ url: "/api/v1/tokens/t1", method: "DELETE" }).headers?.["X-CSRF-Token"]).toBe("csrf-now");

    const get = intercept({ url: "/api/v1/posts", method: "GET", headers: {} });
    expect(get.headers).toEqual({});
    expect(get.credentials).toBe("same-origin");
    const elsewhere = intercept({ url: "https://elsewhere.example/api", method: "POST", headers: {} });
    expect(elsewhere.headers).toEqual({});
    expect(elsewhere.credentials).toBe("same-origin");

    setCsrfToken(null);
    expect(intercept({ url: "/api/v1/posts", method: "POST", headers: {} }).headers).toEqual({});
  });
});
