// Drives a Transmission RPC server (seedboxd's /transmission/rpc) through the real TypeScript
// client @ctrl/transmission, a library Node apps use to talk to Transmission.
// Used by tests/integration/test_ctrl_transmission.py, which checks the daemon's side.
//
// usage: node ctrl_transmission.mjs < job.json, the job being
//   {"url": "http://127.0.0.1:PORT", "user": "...", "password": "...", "timeout_ms": 60000,
//    "steps": [{"call": "getSession"},
//              {"call": "request", "args": ["session-stats"]},
//              {"call": "addTorrent", "args": [{"$file": "/abs/x.torrent"}, {...options}]},
//              {"call": "getTorrent", "args": ["<hash>"], "until": {"state": "seeding"}}]}
// Each step calls the client method `call` with `args` ({"$file": path} becomes the file's
// bytes, a Buffer); "request" gives the body of the raw response. With `until` ({key or
// dotted.path: value}) the call is repeated every 100 ms until its answer matches, for at most
// the job's timeout_ms. The library does not look at Transmission's "result", so any answer
// whose result is not "success" is an error here, even inside a method that makes several.
// Prints one JSON document: {ok, results (one per step; getAllData without its duplicate raw),
// exchanges ([rpc method, HTTP status] of every request the library sent)} and exits 0; on an
// error {ok: false, step, call, error, request, status, answer (the refused exchange, else the
// last one), exchanges} and exits 1; 2 on bad usage.
import { readFileSync } from "node:fs";
import { Transmission } from "@ctrl/transmission";

const job = JSON.parse(readFileSync(0, "utf8") || "null");
if (!job || !job.url || !Array.isArray(job.steps)) {
    console.error('usage: node ctrl_transmission.mjs < {"url":...,"user":...,"password":...,' +
                  '"steps":[{"call":...,"args":[...]}]}');
    process.exit(2);
}
const deadline = Date.now() + (job.timeout_ms ?? 60000);

// Every request the library sends, and the last one's answer, for the report. ofetch looks up
// globalThis.fetch at each call, so wrapping it here sees the library's own requests.
// The library does not look at Transmission's "result": the first answer whose result is not
// "success" is kept as `refused`, and fails its step even when the library went on.
const exchanges = [];
let last = { request: null, status: null, answer: null };
let refused = null;
const realFetch = globalThis.fetch;
globalThis.fetch = async (url, init) => {
    const request = init && typeof init.body === "string" ? init.body : null;
    const res = await realFetch(url, init);
    const answer = await res.clone().text();
    last = { request, status: res.status, answer };
    exchanges.push([request ? JSON.parse(request).method : null, res.status]);
    let result = "success";
    try {
        result = res.status === 200 ? JSON.parse(answer).result : result;
    } catch {
        result = "(no JSON)";
    }
    if (result !== "success" && !refused)
        refused = { ...last, result };
    return res;
};

const client = new Transmission({
    baseUrl: job.url,
    username: job.user ?? "",
    password: job.password ?? "",
    timeout: 30000,
});

function argument(a) {
    if (a && typeof a === "object" && Object.keys(a).length === 1 && "$file" in a)
        return readFileSync(a.$file);
    return a;
}

function at(value, path) {
    return path.split(".").reduce((v, k) => (v == null ? undefined : v[k]), value);
}

function matches(value, until) {
    return Object.entries(until).every(([k, v]) => JSON.stringify(at(value, k)) ===
                                                   JSON.stringify(v));
}

// The answer of one call: request() gives ofetch's raw response, whose body is in _data.
async function call(step, args) {
    const value = await client[step.call](...args);
    if (refused)
        throw new Error(`the server answered result ${JSON.stringify(refused.result)}`);
    return step.call === "request" ? value._data : value;
}

async function run(step) {
    if (typeof client[step.call] !== "function")
        throw new Error(`the library has no method ${step.call}`);
    const args = (step.args ?? []).map(argument);
    for (;;) {
        const value = await call(step, args);
        if (!step.until || matches(value, step.until))
            return step.call === "getAllData" ? { torrents: value.torrents,
                                                  labels: value.labels } : value;
        if (Date.now() > deadline)
            throw new Error(`timed out waiting for ${JSON.stringify(step.until)}; last answer ` +
                            JSON.stringify(value));
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

const results = [];
for (const [i, step] of job.steps.entries()) {
    try {
        results.push(await run(step));
    } catch (e) {
        console.log(JSON.stringify({ ok: false, step: i, call: step.call,
                                     error: String(e && e.stack ? e.stack : e),
                                     ...(refused ?? last), exchanges }));
        process.exit(1);
    }
}
console.log(JSON.stringify({ ok: true, results, exchanges }));
