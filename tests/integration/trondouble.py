"""Starts the TRON HTTP API test double (tests/tron/double.js, Node.js) on loopback and talks to
it: the node API the daemon uses, plus its /test/ control endpoints (funding, faults, balances)."""
import json
import os
import subprocess
import tempfile
import urllib.request

TRON_DIR = os.path.join(os.path.dirname(__file__), "..", "tron")


class TronDouble:
    def __init__(self, block_ms=100, solid_lag=10, withdraw_delay=3600):
        self.log = tempfile.NamedTemporaryFile(prefix="trondouble-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            ["node", "double.js", "--port", "0", "--block-ms", str(block_ms),
             "--solid-lag", str(solid_lag), "--withdraw-delay", str(withdraw_delay)],
            cwd=TRON_DIR, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the TRON double did not start: " + open(self.log.name).read())
        self.info = json.loads(line)
        self.url = f"http://127.0.0.1:{self.info['port']}"
        self.hub = self.info["hub_base58"]
        self.token = self.info["token_base58"]

    def post(self, path, body=None, timeout=30):
        req = urllib.request.Request(self.url + path, data=json.dumps(body or {}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read())

    def fund(self, address, trx=0, btt=0):
        return self.post("/test/fund", {"address": address, "trx": trx, "btt": str(btt)})

    def deposit(self, address, amount):
        return self.post("/test/deposit", {"address": address, "amount": str(amount)})

    def balances(self, *addresses):
        return self.post("/test/balances", {"addresses": list(addresses)})

    def paid(self, payer, beneficiary):
        return int(self.post("/test/paid", {"payer": payer, "beneficiary": beneficiary})["paid"])

    def fault(self, kind, count=1, ms=0, path=""):
        """Injects a fault: server_busy, accept_drop, never_include, revert (broadcasts), or
        timeout / restart (any request, or only those to `path`)."""
        return self.post("/test/fault", {"kind": kind, "count": count, "ms": ms, "path": path})

    def daemon_args(self):
        """--set flags that point a seedboxd at this double in broadcast mode."""
        return ["--set", "settlement.mode=broadcast", "--set", f"tron.node_url={self.url}",
                "--set", f"payments.hub={self.hub}", "--set", f"tron.token={self.token}"]

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        os.unlink(self.log.name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
