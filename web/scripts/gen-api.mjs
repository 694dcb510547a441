// Generates src/api/schema.gen.ts, the TypeScript types of the REST API, from
// src/api/openapi.json (the server's document, kept current by a server test).
// The output is not committed: typecheck, test and build generate it first, so
// the app always compiles against the API the server serves, and a change
// there that the app does not follow fails the type check.
import { readFileSync, writeFileSync } from "node:fs";
import openapiTS, { COMMENT_HEADER, astToString } from "openapi-typescript";

const input = new URL("../src/api/openapi.json", import.meta.url);
const output = new URL("../src/api/schema.gen.ts", import.meta.url);
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

const doc = JSON.parse(readFileSync(input, "utf8"));

// openapi-typescript files every operation under its operationId in one
// `operations` interface, where two entries of one name do not compile. The
// server makes its ids unique (method and path, checked by a server test);
// should one ever repeat, it is left out here — that operation is still typed
// under `paths`, where the app reads every operation — and said aloud.
const operations = Object.values(doc.paths ?? {}).flatMap((item) =>
  METHODS.flatMap((method) => (item?.[method]?.operationId ? [item[method]] : [])),
);
const uses = new Map();
for (const op of operations) uses.set(op.operationId, (uses.get(op.operationId) ?? 0) + 1);
const shared = [...uses].filter(([, n]) => n > 1).map(([id]) => id);
for (const op of operations) if (shared.includes(op.operationId)) delete op.operationId;
if (shared.length > 0) {
  console.warn(`gen:api: operationIds used more than once (typed under \`paths\` only): ${shared.join(", ")}`);
}

const text = COMMENT_HEADER + astToString(await openapiTS(doc));
// Unchanged: left alone, so watchers (vite, tsc --watch) have nothing to redo.
let old = null;
try {
  old = readFileSync(output, "utf8");
} catch {
  // Not generated yet.
}
if (old !== text) writeFileSync(output, text);
console.log(`gen:api: src/api/schema.gen.ts ${old === text ? "is current" : "written"}`);
