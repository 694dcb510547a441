// The served OpenAPI document, rendered by Swagger UI (bundled, never from a CDN).
import { useEffect, useRef, useState } from "react";
import { Alert, Spinner } from "../components/ui";
import "swagger-ui-dist/swagger-ui.css";

export function ApiDocs() {
  const target = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<"loading" | "ready" | "failed">("loading");
  useEffect(() => {
    let cancelled = false;
    import("swagger-ui-dist/swagger-ui-bundle.js")
      .then((module) => {
        if (cancelled || !target.current) return;
        const SwaggerUIBundle = (module.default ?? module) as (options: object) => unknown;
        SwaggerUIBundle({ url: "/api/openapi.json", domNode: target.current, deepLinking: false });
        setState("ready");
      })
      .catch(() => setState("failed"));
    return () => {
      cancelled = true;
    };
  }, []);
  return (
    <div className="rounded-lg bg-white p-2 shadow-sm ring-1 ring-slate-200">
      {state === "loading" && <Spinner label="Loading the API document…" />}
      {state === "failed" && <Alert>The API document viewer could not load. The raw document is at /api/openapi.json.</Alert>}
      <div ref={target} />
    </div>
  );
}
