// Drives npm openapi-fuzzer-core (a library: it turns a Swagger 2.0 document into a list of
// requests with the statuses it expects) against a base URL for a given time, as a user of it would:
// the OpenAPI 3.0 document is first flattened to the Swagger 2.0 shape the library reads (parameter
// schemas inlined, JSON request bodies as "in: body" parameters, components.schemas as
// definitions), then the generated requests are sent round after round until the time is up.
//
// usage: node openapi_fuzzer_core.js DOC.json BASE_URL SECONDS [HEADER]...
'use strict';
const fs = require('fs');
const http = require('http');
const fuzzer = require('openapi-fuzzer-core');

const [docPath, base, seconds, ...headerArgs] = process.argv.slice(2);
const doc = JSON.parse(fs.readFileSync(docPath, 'utf8'));
const headers = {};
for (const h of headerArgs) {
  const i = h.indexOf(':');
  headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
}

function rewriteRefs(node) {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node && typeof node === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(node)) {
      out[k] = k === '$ref' ? v.replace('#/components/schemas/', '#/definitions/') : rewriteRefs(v);
    }
    return out;
  }
  return node;
}

const swagger = { swagger: '2.0', basePath: '', paths: {}, definitions: rewriteRefs(doc.components.schemas || {}) };
for (const [route, item] of Object.entries(doc.paths)) {
  swagger.paths[route] = {};
  for (const [method, op] of Object.entries(item)) {
    if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
    const params = [...(item.parameters || []), ...(op.parameters || [])].map(p => Object.assign({}, p, rewriteRefs(p.schema || {})));
    const json = op.requestBody && op.requestBody.content && op.requestBody.content['application/json'];
    if (json) params.push({ name: 'body', in: 'body', schema: rewriteRefs(json.schema) });
    swagger.paths[route][method] = { parameters: params };
  }
}

const specs = fuzzer.swagger(swagger);
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const deadline = Date.now() + Number(seconds) * 1000;
let sent = 0;

function target(req) {
  let path = req.path;
  for (const [k, v] of Object.entries(req.pathParams || {})) path = path.replace(`{${k}}`, encodeURIComponent(String(v)));
  const qs = Object.entries(req.queryParams || {}).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return path + (qs.length ? `?${qs.join('&')}` : '');
}

function send(spec) {
  return new Promise(resolve => {
    const req = spec.request;
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    const h = Object.assign({}, headers, body === undefined ? {} : { 'Content-Type': 'application/json' });
    const r = http.request(base + target(req), { method: req.method.toUpperCase(), headers: h, agent, timeout: 5000 }, res => {
      res.resume();
      res.on('end', resolve);
    });
    r.on('timeout', () => r.destroy());
    r.on('error', resolve);
    if (body !== undefined) r.write(body);
    r.end();
    sent++;
  });
}

async function worker(offset) {
  for (let i = offset; Date.now() < deadline; i += 16) await send(specs[i % specs.length]);
}

Promise.all(Array.from({ length: 16 }, (_, i) => worker(i))).then(() => {
  console.log(`openapi-fuzzer-core: ${specs.length} generated requests, ${sent} sent`);
  process.exit(0);
});
