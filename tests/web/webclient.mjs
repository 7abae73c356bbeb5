// Drives Transmission's web client, as seedboxd serves it, in a headless Chromium (Debian's
// `chromium`, scripted by puppeteer-core): sign in with HTTP Basic auth, open "/" (redirected to
// /transmission/web/), add a .torrent through the client's "Open Torrent" dialog, wait until its
// row says Seeding, then remove it through the toolbar and the confirm dialog, and wait until the
// row is gone. Used by tests/integration/test_web_client.py, which checks the daemon's side.
//
// usage: node webclient.mjs '<json>' with
//   {"url": "http://127.0.0.1:PORT", "user": "...", "password": "...",
//    "torrent": "/abs/x.torrent", "name": "row name", "screenshot": "/abs/shot.png",
//    "chromium": "/usr/bin/chromium", "timeout_ms": 90000}
// Prints one JSON report on stdout: {ok, step, error, final_url, console_errors,
// page_errors, csp_violations, bad_responses, dialogs}. Exits 0 when the whole flow ran (the
// caller judges the lists), 1 when a step failed (`step` names it), 2 on bad usage.
// The screenshot shows the Seeding row, or the page at the moment a step failed.
import puppeteer from "puppeteer-core";

const cfg = JSON.parse(process.argv[2] ?? "null");
if (!cfg || !cfg.url || !cfg.torrent || !cfg.name || !cfg.screenshot) {
    console.error("usage: node webclient.mjs '{\"url\":...,\"torrent\":...,\"name\":...," +
                  "\"screenshot\":...}'");
    process.exit(2);
}
const deadline = Date.now() + (cfg.timeout_ms ?? 90000);
const left = () => Math.max(1000, deadline - Date.now());

const report = {
    ok: false,
    step: "launch",
    error: null,
    final_url: null,
    console_errors: [],
    page_errors: [],
    csp_violations: [],
    bad_responses: [],
    dialogs: [],
};

// Installed in the page before its own scripts: CSP violations are collected, and
// __rowText(name) gives the peer-details text of the torrent row named `name` (null when there
// is no such row), e.g. "Seeding to 0 of 0 peers - ▲0 kB/s".
function instrument() {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) =>
        window.__cspViolations.push(
            `${e.violatedDirective}: ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber} ${e.sample}`));
    window.__rowText = (name) => {
        for (const li of document.querySelectorAll("#torrent_list li.torrent")) {
            const n = li.querySelector(".torrent_name");
            if (n && n.textContent.trim() === name) {
                const details = li.querySelector(".torrent_peer_details");
                return details ? details.textContent.trim() : "";
            }
        }
        return null;
    };
}

async function run(page) {
    report.step = "sign in and open /";
    await page.authenticate({ username: cfg.user ?? "any", password: cfg.password ?? "" });
    await page.goto(cfg.url.replace(/\/$/, "") + "/", { waitUntil: "load", timeout: left() });
    report.final_url = page.url();

    report.step = "load the session";
    await page.waitForFunction(
        () => typeof transmission !== "undefined" &&
              document.querySelector("#download-dir").value !== "",
        { timeout: left(), polling: 100 });

    report.step = "open the upload dialog";
    await page.click("#toolbar-open");
    await page.waitForSelector("#upload_container", { visible: true, timeout: left() });
    const input = await page.$("#torrent_upload_file");
    await input.uploadFile(cfg.torrent);
    if (!(await page.$eval("#torrent_auto_start", (e) => e.checked)))
        await page.click("#torrent_auto_start"); // seed at once, whatever the daemon's default
    await page.click("#upload_confirm_button");

    report.step = "wait for the row to say Seeding";
    await page.waitForFunction(
        (name) => (window.__rowText(name) ?? "").startsWith("Seeding"),
        { timeout: left(), polling: 250 }, cfg.name);
    await page.screenshot({ path: cfg.screenshot, fullPage: true });

    report.step = "select the row and remove it";
    const rows = await page.$$("#torrent_list li.torrent");
    for (const row of rows) {
        const name = await row.$eval(".torrent_name", (e) => e.textContent.trim());
        if (name === cfg.name) {
            await row.click();
            break;
        }
    }
    await page.waitForFunction(
        () => !document.querySelector("#toolbar-remove").classList.contains("disabled"),
        { timeout: left(), polling: 100 });
    await page.click("#toolbar-remove");
    await page.waitForSelector("#dialog_container", { visible: true, timeout: left() });
    const heading = await page.$eval("#dialog_heading", (e) => e.textContent);
    if (!heading.includes(cfg.name))
        throw new Error(`the confirm dialog asks "${heading}", not about ${cfg.name}`);
    await page.click("#dialog_confirm_button");

    report.step = "wait for the row to go";
    await page.waitForFunction((name) => window.__rowText(name) === null,
                               { timeout: left(), polling: 250 }, cfg.name);
    report.csp_violations.push(...(await page.evaluate(() => window.__cspViolations ?? [])));
    report.step = "done";
    report.ok = true;
}

let browser;
try {
    browser = await puppeteer.launch({
        executablePath: cfg.chromium ?? "/usr/bin/chromium",
        headless: true,
        // It visits only the daemon under test; Chromium's sandbox needs user namespaces that
        // containers (CI, root) often lack, and containers have a small /dev/shm.
        args: ["--no-sandbox", "--disable-dev-shm-usage", "--no-first-run",
               "--no-default-browser-check"],
        timeout: left(),
    });
    const page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 700 });
    page.setDefaultTimeout(left());
    await page.evaluateOnNewDocument(instrument);
    page.on("console", (m) => {
        if (m.type() === "error")
            report.console_errors.push(m.text());
    });
    page.on("pageerror", (e) => report.page_errors.push(String(e)));
    page.on("dialog", async (d) => { // alert(): the client's way of saying an add failed
        report.dialogs.push(d.message());
        await d.dismiss();
    });
    page.on("response", (r) => {
        // 401 is Basic auth's challenge and 409 Transmission's session-id handshake.
        if (r.status() >= 400 && r.status() !== 401 && r.status() !== 409)
            report.bad_responses.push(`${r.status()} ${r.request().method()} ${r.url()}`);
    });
    try {
        await run(page);
    } catch (e) {
        report.error = String(e && e.stack ? e.stack : e);
        report.final_url = page.url();
        await page.screenshot({ path: cfg.screenshot, fullPage: true }).catch(() => {});
    }
} catch (e) {
    report.error = String(e && e.stack ? e.stack : e);
} finally {
    if (browser)
        await browser.close().catch(() => {});
}
console.log(JSON.stringify(report));
process.exit(report.ok ? 0 : 1);
