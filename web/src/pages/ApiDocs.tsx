// The served OpenAPI document, rendered by Swagger UI (bundled, never from a CDN).
import { useEffect, useRef, useState } from "react";
import { Link } from "react-router-dom";
import { getCsrfToken } from "../api/client";
import { Alert, Spinner } from "../components/ui";
import "swagger-ui-dist/swagger-ui.css";

/** The part of a Swagger UI request an interceptor may change. */
export interface SwaggerRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  credentials?: RequestCredentials;
  [key: string]: unknown;
}

const SAFE_METHODS = ["GET", "HEAD", "OPTIONS"];

/**
 * "Try it out" with the browser session: the session cookie goes along to
 * this origin only, and a state-changing request to it carries the session's
 * CSRF token, as the app's own requests do.
 */
export function withSession(request: SwaggerRequest): SwaggerRequest {
  request.credentials = "same-origin";
  let sameOrigin = false;
  try {
    sameOrigin = new URL(request.url, window.location.href).origin === window.location.origin;
  } catch {
    sameOrigin = false;
  }
  const method = (request.method ?? "GET").toUpperCase();
  const token = getCsrfToken();
  if (sameOrigin && token && !SAFE_METHODS.includes(method)) {
    request.headers = { ...(request.headers ?? {}), "X-CSRF-Token": token };
  }
  return request;
}

export function ApiDocs() {
  const target = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<"loading" | "ready" | "failed">("loading");
  useEffect(() => {
    let cancelled = false;
    import("swagger-ui-dist/swagger-ui-bundle.js")
      .then((module) => {
        if (cancelled || !target.current) return;
        const SwaggerUIBundle = (module.default ?? module) as (options: object) => unknown;
        SwaggerUIBundle({
          url: "/api/openapi.json",
          domNode: target.current,
          deepLinking: false,
          requestInterceptor: withSession,
        });
        setState("ready");
      })
      .catch(() => setState("failed"));
    return () => {
      cancelled = true;
    };
  }, []);
  return (
    <div className="space-y-3">
      <p className="text-sm text-slate-600" data-testid="api-docs-auth-note">
        Try it out uses your browser session. Scripts send an API token instead:{" "}
        <code className="rounded bg-slate-100 px-1">Authorization: Bearer prs_…</code> — make one in{" "}
        <Link className="font-medium text-indigo-700 underline" to="/settings">
          Settings
        </Link>
        .
      </p>
      <div className="rounded-lg bg-white p-2 shadow-sm ring-1 ring-slate-200">
        {state === "loading" && <Spinner label="Loading the API document…" />}
        {state === "failed" && <Alert>The API document viewer could not load. The raw document is at /api/openapi.json.</Alert>}
        <div ref={target} />
      </div>
    </div>
  );
}
