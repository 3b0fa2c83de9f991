// Drives `chaosplus proxy` with the published npm package toxiproxy-node-client, unchanged: if a
// route, a JSON shape or a status code differs from Toxiproxy's, this client breaks here.
//   CHAOSPLUS_BIN=/path/to/chaosplus node --test compat.test.js
// Timing checks are lower bounds (a toxic's delay is felt), except one generous upper bound after
// removal: a loopback request taking longer than the removed 1.5 s delay means the toxic stayed.
"use strict";

const { describe, it, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { spawn } = require("node:child_process");
const http = require("node:http");
const net = require("node:net");
const { Toxiproxy, ToxiproxyError } = require("toxiproxy-node-client");

const BIN = process.env.CHAOSPLUS_BIN;
const STEP_TIMEOUT_MS = 10000;
const LATENCY_MS = 1500;

// Starts `chaosplus proxy --api 127.0.0.1:0` and resolves with the API port from its ready line.
function startProxyServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ["proxy", "--api", "127.0.0.1:0", "--no-token"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no ready line within ${STEP_TIMEOUT_MS} ms; stdout: ${out} stderr: ${err}`));
    }, STEP_TIMEOUT_MS);
    child.stderr.on("data", (d) => { err += d; });
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/chaosplus proxy API listening on ([0-9.]+):(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ child, host: m[1], port: Number(m[2]), stderr: () => err });
      }
    });
    child.on("error", (e) => { clearTimeout(timer); reject(e); });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`chaosplus proxy exited early with ${code}; stderr: ${err}`));
    });
  });
}

// The upstream: a tiny HTTP server answering every request with "pong".
function startUpstream() {
  return new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": "4" });
        res.end("pong");
      });
    });
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

function portOf(listen) {
  const m = String(listen).match(/:(\d+)$/);
  assert.ok(m, `listen address "${listen}" has no port`);
  return Number(m[1]);
}

// One GET on a fresh connection; resolves with status, body and elapsed milliseconds.
function get(port) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.request({ host: "127.0.0.1", port, path: "/ping", agent: false, timeout: STEP_TIMEOUT_MS },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => { body += d; });
        res.on("end", () => resolve({
          status: res.statusCode, body, ms: Number(process.hrtime.bigint() - started) / 1e6,
        }));
      });
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end();
  });
}

// Resolves true if the proxy port refuses or closes a connection without any reply.
function refused(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.setTimeout(STEP_TIMEOUT_MS, () => { socket.destroy(); resolve(false); });
    socket.on("error", () => resolve(true));
    socket.on("connect", () => socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    socket.on("data", () => { socket.destroy(); resolve(false); });
    socket.on("close", () => resolve(true));
  });
}

async function rejectsWithStatus(promise, status) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof ToxiproxyError, `expected a ToxiproxyError, got ${e}`);
    assert.match(e.message, new RegExp(`status code ${status}\\b`));
    return true;
  });
}

describe("toxiproxy-node-client against chaosplus proxy", { timeout: 120000 }, () => {
  let server;
  let upstream;
  let upstreamAddress;
  let toxiproxy;

  before(async () => {
    assert.ok(BIN, "set CHAOSPLUS_BIN to the chaosplus binary");
    upstream = await startUpstream();
    upstreamAddress = `127.0.0.1:${upstream.address().port}`;
    server = await startProxyServer();
    toxiproxy = new Toxiproxy(`http://${server.host}:${server.port}`);
  });

  after(async () => {
    if (server) {
      server.child.removeAllListeners("exit");
      const exited = new Promise((resolve) => server.child.once("exit", (code, signal) => resolve({ code, signal })));
      server.child.kill("SIGTERM");
      const timer = setTimeout(() => server.child.kill("SIGKILL"), STEP_TIMEOUT_MS);
      const { code } = await exited;
      clearTimeout(timer);
      assert.equal(code, 0, `chaosplus proxy exited with ${code} on SIGTERM; stderr: ${server.stderr()}`);
    }
    if (upstream) await new Promise((resolve) => upstream.close(resolve));
  });

  it("reads the version", async () => {
    const version = await toxiproxy.getVersion();
    assert.ok(version.length > 0);
  });

  it("creates a proxy on an ephemeral port and forwards through it", async () => {
    const proxy = await toxiproxy.createProxy({ name: "shop", listen: "127.0.0.1:0", upstream: upstreamAddress });
    assert.equal(proxy.name, "shop");
    assert.equal(proxy.upstream, upstreamAddress);
    assert.equal(proxy.enabled, true);
    assert.notEqual(portOf(proxy.listen), 0);
    const reply = await get(portOf(proxy.listen));
    assert.equal(reply.status, 200);
    assert.equal(reply.body, "pong");
  });

  it("adds a latency toxic that every new request feels, then removes it", async () => {
    const proxy = await toxiproxy.get("shop");
    const toxic = await proxy.addToxic({
      name: "slow", type: "latency", stream: "downstream", toxicity: 1, attributes: { latency: LATENCY_MS, jitter: 0 },
    });
    assert.equal(toxic.name, "slow");
    assert.equal(toxic.type, "latency");
    assert.equal(toxic.stream, "downstream");
    assert.equal(toxic.toxicity, 1);
    assert.deepEqual(toxic.attributes, { latency: LATENCY_MS, jitter: 0 });

    const slow = await get(portOf(proxy.listen));
    assert.equal(slow.body, "pong");
    assert.ok(slow.ms >= LATENCY_MS, `request took ${slow.ms} ms with a ${LATENCY_MS} ms latency toxic`);

    await toxic.remove();
    const after = await toxiproxy.get("shop");
    const listed = await toxiproxy.getAll();
    assert.deepEqual(listed.shop.toJson(), after.toJson());
    const fast = await get(portOf(proxy.listen));
    assert.equal(fast.body, "pong");
    assert.ok(fast.ms < LATENCY_MS, `request still took ${fast.ms} ms after the toxic was removed`);
  });

  it("reads and updates a toxic in place", async () => {
    const proxy = await toxiproxy.get("shop");
    await proxy.addToxic({ name: "cap", type: "bandwidth", stream: "upstream", toxicity: 0.5, attributes: { rate: 100 } });
    const read = await proxy.getToxic("cap");
    assert.deepEqual(read.toJson(), {
      name: "cap", type: "bandwidth", stream: "upstream", toxicity: 0.5, attributes: { rate: 100 },
    });
    const updated = await read.update({ ...read.toJson(), toxicity: 1, attributes: { rate: 200 } });
    assert.equal(updated.toxicity, 1);
    assert.deepEqual(updated.attributes, { rate: 200 });
    assert.deepEqual((await proxy.getToxic("cap")).attributes, { rate: 200 });
    await updated.remove();
  });

  it("carries an HTTP toxic with text attributes: matching requests are answered by the proxy", async () => {
    const proxy = await toxiproxy.get("shop");
    const toxic = await proxy.addToxic({
      name: "busy", type: "http_status", stream: "upstream", toxicity: 1,
      attributes: { method: "GET", path: "/ping", status: 503, body: "busy" },
    });
    assert.equal(toxic.attributes.path, "/ping");
    assert.equal(toxic.attributes.status, 503);
    const answered = await get(portOf(proxy.listen));
    assert.equal(answered.status, 503);
    assert.equal(answered.body, "busy");
    await rejectsWithStatus(proxy.addToxic({
      name: "wrong-way", type: "http_status", stream: "downstream", toxicity: 1, attributes: {},
    }), 400);
    await toxic.remove();
    assert.equal((await get(portOf(proxy.listen))).body, "pong");
  });

  it("disables a proxy so it refuses connections, and enables it again", async () => {
    const proxy = await toxiproxy.get("shop");
    const down = await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    assert.equal(down.enabled, false);
    assert.equal((await toxiproxy.get("shop")).enabled, false);
    assert.equal(await refused(portOf(proxy.listen)), true);
    const up = await down.update({ enabled: true, listen: proxy.listen, upstream: proxy.upstream });
    assert.equal(up.enabled, true);
    assert.equal(portOf(up.listen), portOf(proxy.listen));
    assert.equal((await get(portOf(up.listen))).body, "pong");
  });

  it("populates proxies idempotently and lists them all", async () => {
    const body = [{ name: "db", listen: "127.0.0.1:0", upstream: upstreamAddress }];
    const first = await toxiproxy.populate(body);
    const again = await toxiproxy.populate(body);
    assert.equal(first.db.upstream, upstreamAddress);
    assert.equal(again.db.listen, first.db.listen);
    const all = await toxiproxy.getAll();
    assert.deepEqual(Object.keys(all).sort(), ["db", "shop"]);
    assert.equal((await get(portOf(all.db.listen))).body, "pong");
  });

  it("resets: every toxic removed and every proxy enabled", async () => {
    const shop = await toxiproxy.get("shop");
    await shop.addToxic({ name: "slow", type: "latency", stream: "downstream", toxicity: 1, attributes: { latency: LATENCY_MS, jitter: 0 } });
    const db = await toxiproxy.get("db");
    await db.update({ enabled: false, listen: db.listen, upstream: db.upstream });
    await toxiproxy.reset();
    const all = await toxiproxy.getAll();
    for (const name of ["shop", "db"]) {
      assert.equal(all[name].enabled, true, `${name} still disabled after reset`);
      const raw = await toxiproxy.getApi().get(`${toxiproxy.host}/proxies/${name}/toxics`);
      assert.deepEqual(raw.data, [], `${name} still has toxics after reset`);
    }
    const fast = await get(portOf(shop.listen));
    assert.ok(fast.ms < LATENCY_MS, `request took ${fast.ms} ms after reset`);
  });

  it("deletes a proxy, after which it is gone", async () => {
    const db = await toxiproxy.get("db");
    await db.remove();
    await rejectsWithStatus(toxiproxy.get("db"), 404);
    assert.deepEqual(Object.keys(await toxiproxy.getAll()), ["shop"]);
  });

  it("reports errors as the status codes Toxiproxy uses", async () => {
    await rejectsWithStatus(toxiproxy.createProxy({ name: "shop", listen: "127.0.0.1:0", upstream: upstreamAddress }), 409);
    await rejectsWithStatus(toxiproxy.get("nope"), 404);
    const shop = await toxiproxy.get("shop");
    await rejectsWithStatus(shop.addToxic({ name: "x", type: "no_such_toxic", stream: "downstream", toxicity: 1, attributes: {} }), 400);
    await rejectsWithStatus(shop.getToxic("missing"), 404);
    await shop.addToxic({ name: "twice", type: "latency", stream: "upstream", toxicity: 1, attributes: { latency: 1, jitter: 0 } });
    await rejectsWithStatus(shop.addToxic({ name: "twice", type: "latency", stream: "upstream", toxicity: 1, attributes: { latency: 1, jitter: 0 } }), 409);
    // The proxy keeps working after every refusal.
    assert.equal((await get(portOf(shop.listen))).body, "pong");
  });
});
