// A stand-in for the server in page tests: answers fetch by "METHOD path",
// records every call, and renders the whole app at a given address.
import { render } from "@testing-library/react";
import { StrictMode } from "react";
import { MemoryRouter, type InitialEntry } from "react-router-dom";
import { vi } from "vitest";
import { App } from "./App";
import { AuthProvider } from "./auth";

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Promise<Response> {
  return Promise.resolve(
    new Response(status === 204 ? null : JSON.stringify(body), {
      status,
      headers: { "Content-Type": "application/json", ...headers },
    }),
  );
}

export const noContent = () => json(null, 204);

export const apiError = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
  json({ error: { code, message } }, status, headers);

export const notSignedIn = () => apiError(401, "unauthenticated", "log in first");

/** Answers one request: its JSON body, and its address (for the query string). */
export type Answer = (body: unknown, url: URL) => Promise<Response>;

export interface Call {
  method: string;
  url: string;
  body: unknown;
  headers: Headers;
}

/**
 * Stubs fetch: `answers` by "METHOD path?query", else by "METHOD path" (for
 * queries a test reads from the answer's `url`); anything else is a 404.
 * Nobody is signed in unless `GET /api/v1/me` is answered.
 */
export function fakeServer(answers: Record<string, Answer>): Call[] {
  const calls: Call[] = [];
  const fetch = vi.fn().mockImplementation((url: string, init?: RequestInit) => {
    const method = init?.method ?? "GET";
    const body = typeof init?.body === "string" ? JSON.parse(init.body) : undefined;
    calls.push({ method, url: String(url), body, headers: new Headers(init?.headers) });
    const address = new URL(String(url), "http://localhost");
    const answer =
      answers[`${method} ${url}`] ??
      answers[`${method} ${address.pathname}`] ??
      (url === "/api/v1/me" ? notSignedIn : undefined);
    return answer ? answer(body, address) : apiError(404, "not_found", "no such thing");
  });
  vi.stubGlobal("fetch", fetch);
  return calls;
}

/** The calls to one endpoint. */
export const callsTo = (calls: Call[], method: string, url: string) =>
  calls.filter((c) => c.method === method && c.url === url);

/** The whole app at `path` (with router state, if given so), in StrictMode as in main.tsx (effects run twice). */
export function renderApp(path: InitialEntry) {
  return render(
    <StrictMode>
      <MemoryRouter initialEntries={[path]}>
        <AuthProvider>
          <App />
        </AuthProvider>
      </MemoryRouter>
    </StrictMode>,
  );
}
