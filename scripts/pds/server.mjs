// Runs Bluesky's own PDS (@atproto/pds) beside an in-memory PLC directory
// (@did-plc/server), both on loopback only, for tests that talk to the
// genuine server (tests/api/pds.rs). Nothing leaves the machine: accounts'
// DIDs are registered in the private PLC, handles end in `.test`.
//
// Run with the Node 22 that scripts/bluesky-pds installs:
//   target/bluesky-pds/node/bin/node scripts/pds/server.mjs \
//     --port 2583 --plc-port 2582 --data-dir /tmp/pds [--rate-limits] [--exit-with-stdin]
//
// When both servers listen it prints one JSON line on stdout,
//   {"pds":"http://127.0.0.1:P","plc":"http://127.0.0.1:Q","admin_password":"…",…}
// and stops both cleanly on SIGTERM or SIGINT (exit status 0).
//
// Options (each also read from the environment variable named after it):
//   --port N           PDS port (PDS_PORT; 0 or none picks a free one)
//   --plc-port N       PLC port (PDS_PLC_PORT; 0 or none picks a free one)
//   --data-dir DIR     where the PDS keeps its SQLite files and blobs
//                      (PDS_DATA_DIRECTORY; default: a temporary directory,
//                      removed on exit)
//   --rate-limits      the PDS's real rate limits, answering 429
//                      (PDS_RATE_LIMITS_ENABLED=true; off by default)
//   --admin-password P the admin password (PDS_ADMIN_PASSWORD; default below)
//   --install-dir DIR  where scripts/bluesky-pds installed the packages
//                      (BLUESKY_PDS_DIR; default: target/bluesky-pds)
//   --exit-with-stdin  also stop when stdin closes, so a test process that
//                      dies without killing us does not leave us running
// Any other PDS_* variable in the environment reaches the PDS unchanged
// (see @atproto/pds's config/env.js), e.g. PDS_BLOB_UPLOAD_LIMIT.
// Logs (pino JSON lines) go to stdout when LOG_ENABLED is true (the default
// here, at LOG_LEVEL=info).

import { generateKeyPairSync, randomBytes } from "node:crypto";
import { setDefaultResultOrder } from "node:dns";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const LOOPBACK = "127.0.0.1";
const DEFAULT_ADMIN_PASSWORD = "prasaran-pds-admin";

function fail(message) {
  process.stderr.write(`scripts/pds/server.mjs: ${message}\n`);
  process.exit(2);
}

if (Number(process.versions.node.split(".")[0]) < 22) {
  fail(
    `needs Node 22 or later, not ${process.version}: run it with target/bluesky-pds/node/bin/node`,
  );
}

function parseOptions() {
  try {
    return parseArgs({
      options: {
        port: { type: "string" },
        "plc-port": { type: "string" },
        "data-dir": { type: "string" },
        "rate-limits": { type: "boolean" },
        "admin-password": { type: "string" },
        "install-dir": { type: "string" },
        "exit-with-stdin": { type: "boolean" },
      },
      strict: true,
    }).values;
  } catch (err) {
    fail(err.message);
  }
}
const args = parseOptions();

async function freeLoopbackPort() {
  const server = createServer();
  await new Promise((resolve, reject) =>
    server.listen(0, LOOPBACK, resolve).on("error", reject),
  );
  const { port: free } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return free;
}

function port(value, name) {
  const n = Number(value ?? 0);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    fail(`${name} is not a port: ${value}`);
  return n;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const installDir = path.resolve(
  args["install-dir"] ??
    process.env.BLUESKY_PDS_DIR ??
    path.join(here, "../../target/bluesky-pds"),
);
// The PDS puts its port in its public URL, so it must be known before it
// starts: 0 is resolved here.
const pdsPort =
  port(args.port ?? process.env.PDS_PORT, "--port") ||
  (await freeLoopbackPort());
const plcPort = port(
  args["plc-port"] ?? process.env.PDS_PLC_PORT,
  "--plc-port",
);
const adminPassword =
  args["admin-password"] ??
  process.env.PDS_ADMIN_PASSWORD ??
  DEFAULT_ADMIN_PASSWORD;
const rateLimits =
  args["rate-limits"] ||
  /^(true|t|1)$/i.test(process.env.PDS_RATE_LIMITS_ENABLED ?? "");

let ownDataDir = null;
let dataDir = args["data-dir"] ?? process.env.PDS_DATA_DIRECTORY;
if (dataDir) {
  dataDir = path.resolve(dataDir);
  mkdirSync(dataDir, { recursive: true });
} else {
  dataDir = ownDataDir = mkdtempSync(path.join(tmpdir(), "bluesky-pds-"));
  // Also when start-up fails ("exit" follows uncaught errors too).
  process.on("exit", () =>
    rmSync(ownDataDir, { recursive: true, force: true }),
  );
}

const require = createRequire(path.join(installDir, "pds", "package.json"));
function resolveInstalled(name) {
  try {
    return require.resolve(name);
  } catch {
    fail(
      `${name} is not installed in ${installDir}/pds: run scripts/bluesky-pds`,
    );
  }
}

// A secp256k1 private key as 64 hex digits, the form the PDS wants for its
// PLC rotation key.
function k256PrivateKeyHex() {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "secp256k1" });
  return Buffer.from(
    privateKey.export({ format: "jwk" }).d,
    "base64url",
  ).toString("hex");
}

// Both servers call `app.listen(port)`, which listens on every interface:
// give this app's listen the loopback host.
function listenOnLoopback(app) {
  const listen = app.listen;
  app.listen = function (portToUse, ...rest) {
    return listen.call(this, portToUse, LOOPBACK, ...rest);
  };
}

function actualPort(server) {
  return server.address().port;
}

// The PLC directory, in memory.
const plcModule = require(resolveInstalled("@did-plc/server"));
const plc = plcModule.PlcServer.create({
  db: plcModule.Database.mock(),
  port: plcPort,
});
listenOnLoopback(plc.app);
const plcServer = await plc.start();
const plcUrl = `http://${LOOPBACK}:${actualPort(plcServer)}`;
// The PDS resolves DIDs with a fetch that refuses IP-literal hosts ("Invalid
// hostname"), so it is given the PLC as localhost, which must then mean
// 127.0.0.1 (where we listen) even where ::1 is listed first.
setDefaultResultOrder("ipv4first");
const plcUrlForPds = `http://localhost:${actualPort(plcServer)}`;

// The PDS's configuration is read from the environment (and its logger reads
// LOG_* when first imported): set it before importing.
const defaults = {
  LOG_ENABLED: "true",
  LOG_LEVEL: "info",
  // The public URL is http://localhost:PORT; handles end in `.test`.
  PDS_HOSTNAME: "localhost",
  // Needed for an http:// public URL; also validates the PDS's own responses.
  PDS_DEV_MODE: "true",
  PDS_INVITE_REQUIRED: "false",
  PDS_JWT_SECRET: randomBytes(32).toString("hex"),
  PDS_DPOP_SECRET: randomBytes(32).toString("hex"),
  PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: k256PrivateKeyHex(),
  // No crawler, app view or moderation service: nothing to reach outside.
  PDS_CRAWLERS: "",
};
for (const [key, value] of Object.entries(defaults)) {
  if (process.env[key] === undefined) process.env[key] = value;
}
Object.assign(process.env, {
  PDS_PORT: String(pdsPort),
  PDS_DATA_DIRECTORY: dataDir,
  PDS_BLOBSTORE_DISK_LOCATION:
    process.env.PDS_BLOBSTORE_DISK_LOCATION ?? path.join(dataDir, "blobs"),
  PDS_DID_PLC_URL: plcUrlForPds,
  PDS_ADMIN_PASSWORD: adminPassword,
  PDS_RATE_LIMITS_ENABLED: rateLimits ? "true" : "false",
});

const pdsModule = await import(
  pathToFileURL(resolveInstalled("@atproto/pds")).href
);
const { PDS, readEnv, envToCfg, envToSecrets } = pdsModule;
const env = readEnv();
const cfg = envToCfg(env);
const pds = await PDS.create(cfg, envToSecrets(env));
listenOnLoopback(pds.app);
const pdsServer = await pds.start();
const pdsUrl = `http://${LOOPBACK}:${actualPort(pdsServer)}`;

let stopping = false;
async function stop(reason) {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`scripts/pds/server.mjs: stopping (${reason})\n`);
  // A stuck shutdown must not keep the test waiting.
  setTimeout(() => {
    process.stderr.write(
      "scripts/pds/server.mjs: shutdown took over 10 s; exiting\n",
    );
    process.exit(1);
  }, 10_000).unref();
  let status = 0;
  for (const [name, server] of [
    ["PDS", pds],
    ["PLC", plc],
  ]) {
    try {
      await server.destroy();
    } catch (err) {
      process.stderr.write(
        `scripts/pds/server.mjs: stopping the ${name}: ${err?.stack ?? err}\n`,
      );
      status = 1;
    }
  }
  process.exit(status);
}
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
if (args["exit-with-stdin"]) {
  process.stdin.on("end", () => stop("stdin closed"));
  process.stdin.on("error", () => stop("stdin closed"));
  process.stdin.resume();
}

const versions = {
  node: process.version,
  pds: require("@atproto/pds/package.json").version,
  plc: require("@did-plc/server/package.json").version,
};
process.stdout.write(
  JSON.stringify({
    pds: pdsUrl,
    plc: plcUrl,
    admin_password: adminPassword,
    public_url: cfg.service.publicUrl,
    handle_domains: cfg.identity.serviceHandleDomains,
    rate_limits: rateLimits,
    data_dir: dataDir,
    versions,
  }) + "\n",
);
