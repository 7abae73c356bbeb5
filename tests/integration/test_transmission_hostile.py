"""Hostile requests to Transmission's RPC at /transmission/rpc, against the real daemon: bodies over
rpc.max_body_bytes, JSON deeper than rpc.max_json_depth, batches over rpc.max_batch and empty
ones, ids and field lists that name nothing, every torrent-set argument with the wrong type,
unknown methods in both forms (legacy and 4.1's JSON-RPC), and credential guessing. Each gets
Transmission's answer (a result string, or a JSON-RPC error object), never a 500 or a dropped
connection; the daemon keeps answering session-get and logs no internal error.

One daemon serves the whole module, holding one paused torrent (id 1, one file, one tracker) so
that ids naming nothing are told apart from a daemon with nothing to list, and torrent-set's file
and tracker arguments reach their checks. Credential guessing comes from 127.0.0.2, so the brake
it earns leaves the other tests' client (127.0.0.1) alone."""
import http.client
import json
import os
import re

import pytest

from harness import Daemon, b64, make_file, mktorrent
from test_transmission import basic, raw, session_id, trpc

MAX_BODY = 1 << 20  # its 4x parse budget holds 10,000 field names (about 2 MB parsed)
MAX_BATCH = 8
MAX_DEPTH = 32  # rpc.max_json_depth's default
AUTH_FAILURES = 4
ATTACKER = "127.0.0.2"
LOGGED = "internal error (the daemon logged it)"


@pytest.fixture(scope="module")
def d():
    with Daemon(args=["--set", f"rpc.max_body_bytes={MAX_BODY}",
                      "--set", f"rpc.max_batch={MAX_BATCH}",
                      "--set", f"rpc.auth_failures={AUTH_FAILURES}"]) as d:
        data = os.path.join(d.dir, "hostile.bin")  # outside the downloads: nothing to check
        make_file(data, 100_000)
        meta = mktorrent(data, os.path.join(d.dir, "hostile.torrent"), piece_kib=32,
                         trackers=["http://127.0.0.1:9/announce"])
        added = trpc(d, "torrent-add", metainfo=b64(meta), paused=True)
        assert added["arguments"]["torrent-added"]["id"] == 1, added
        d.hash = added["arguments"]["torrent-added"]["hashString"]
        d.gate = {"Authorization": basic("any", d.token),
                  "X-Transmission-Session-Id": session_id(d)}
        yield d


def post(d, body):
    """`body` (text, or JSON to encode) past the gate; the status and the parsed answer (None for
    an empty body). A dropped connection raises."""
    text = body if isinstance(body, str) else json.dumps(body)
    status, _, answer = raw(d, body=text, headers=d.gate)
    return status, (json.loads(answer) if answer else None)


def legacy(d, method, **arguments):
    """A legacy request; the answer, which must be a 200 with a result string."""
    status, answer = post(d, {"method": method, "arguments": arguments, "tag": 11})
    assert status == 200, (status, answer)
    assert isinstance(answer["result"], str) and isinstance(answer["arguments"], dict), answer
    assert answer["result"] != LOGGED, answer
    return answer


def jsonrpc(d, method, params=None, id=1):
    """A JSON-RPC call; the answer object, which must be a 200."""
    status, answer = post(d, {"jsonrpc": "2.0", "method": method, "params": params or {},
                              "id": id})
    assert status == 200, (status, answer)
    assert answer["jsonrpc"] == "2.0" and ("result" in answer) != ("error" in answer), answer
    return answer


def error_of(answer):
    """A JSON-RPC error object's code, message and data.error_string (None without)."""
    assert "error" in answer, answer
    e = answer["error"]
    assert isinstance(e["code"], int) and isinstance(e["message"], str) and e["message"], e
    detail = (e.get("data") or {}).get("error_string")
    assert detail != LOGGED, answer
    return e["code"], e["message"], detail


def still_sound(d):
    """The daemon is alive, answers session-get, and has logged no internal error."""
    assert d.proc.poll() is None, f"the daemon died:\n{d.logs()}"
    assert trpc(d, "session-get")["arguments"]["rpc-version"] == 19
    log = d.logs(tail=1 << 30)
    assert "internal error" not in log, log[-4000:]
    # A handler's escaped exception is logged at error ("transmission torrent-set: ..."), with
    # the answer saying only "internal error"; nothing here deserves an error line.
    errors = [line for line in log.splitlines() if re.match(r"\S+ (error|critical) ", line)]
    assert not errors, errors


def nested(depth):
    """A JSON value nested `depth` arrays deep."""
    return "[" * depth + "]" * depth


# -- sizes --------------------------------------------------------------------------------------
def test_a_body_over_max_body_bytes_is_413_and_the_daemon_keeps_answering(d):
    def padded(size, form):
        head = ('{"jsonrpc":"2.0","id":1,"method":"session_get","params":{"fields":["version"]},'
                if form == "jsonrpc" else
                '{"method":"session-get","arguments":{"fields":["version"]},')
        pad = '"pad":"' + "x" * (size - len(head) - len('"pad":""}')) + '"}'
        body = head + pad
        assert len(body.encode()) == size
        return body

    for form in ("legacy", "jsonrpc"):
        status, answer = post(d, padded(MAX_BODY, form))  # at the limit: answered
        assert status == 200, (status, answer)
        shown = answer["arguments"] if form == "legacy" else answer["result"]
        assert list(shown) == ["version"], answer
        status, _, text = raw(d, body=padded(MAX_BODY + 1, form), headers=d.gate)
        assert status == 413, (status, text)
        assert "rpc.max_body_bytes" in text
        still_sound(d)


# -- depth --------------------------------------------------------------------------------------
def test_json_deeper_than_max_json_depth_is_refused_in_both_forms(d):
    why = "JSON nested deeper than rpc.max_json_depth"
    # Within the limit: the nesting is an argument seedboxd ignores.
    shallow = legacy(d, "session-get", fields=["version"], junk=json.loads(nested(8)))
    assert shallow["result"] == "success" and shallow["tag"] == 11, shallow
    for depth in (MAX_DEPTH + 1, 1000, 30000):
        body = '{"method":"session-get","tag":1,"arguments":{"a":' + nested(depth) + "}}"
        status, answer = post(d, body)
        assert status == 200 and answer == {"result": why, "arguments": {}}, (depth, answer)
        body = ('{"jsonrpc":"2.0","id":1,"method":"session_get","params":{"a":' + nested(depth) +
                "}}")
        status, answer = post(d, body)
        assert status == 200, (depth, status)
        assert error_of(answer) == (-32600, "Invalid Request", why), answer
        assert answer["id"] is None
        # In a batch, the whole batch is refused unparsed.
        body = '[{"jsonrpc":"2.0","id":2,"method":"session_get"},' + nested(depth) + "]"
        status, answer = post(d, body)
        assert status == 200 and error_of(answer) == (-32600, "Invalid Request", why), answer
    still_sound(d)


# -- batches ------------------------------------------------------------------------------------
def test_a_batch_over_max_batch_is_one_error_naming_the_limit(d):
    def batch(n):
        return [{"jsonrpc": "2.0", "method": "session_stats", "id": i} for i in range(n)]

    status, answer = post(d, batch(MAX_BATCH))
    assert status == 200 and isinstance(answer, list), answer
    assert [a["id"] for a in answer] == list(range(MAX_BATCH))
    assert all("result" in a for a in answer), answer
    for n in (MAX_BATCH + 1, 3 * MAX_BATCH):
        status, answer = post(d, batch(n))
        assert status == 200 and isinstance(answer, dict), answer
        assert error_of(answer) == (
            -32600, "Invalid Request",
            f"a batch of {n} requests; the limit is {MAX_BATCH} (rpc.max_batch)"), answer
        assert answer["id"] is None
    still_sound(d)


def test_an_empty_batch_is_an_invalid_request(d):
    for body in ("[]", " [ ] ", "\ufeff[]"):
        status, answer = post(d, body)
        assert status == 200, (body, status)
        assert answer == {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"},
                          "id": None}, (body, answer)
    # A batch of only notifications has nothing to answer: 204, as Transmission 4.1.
    status, answer = post(d, [{"jsonrpc": "2.0", "method": "session_stats"}] * 3)
    assert status == 204 and answer is None, answer
    still_sound(d)


# -- ids and fields that name nothing -----------------------------------------------------------
HOSTILE_IDS = [2 ** 64, 2 ** 64 - 1, 2 ** 63, -(2 ** 63) - 1, -1, 0, 1e308, -1e308, 1.5,
               "x" * 10_000, "1" * 10_000, "AB" * 20 + "0", "", None, True, {"id": 1}, [[1]]]


@pytest.mark.parametrize("bad", HOSTILE_IDS, ids=lambda v: repr(v)[:24])
def test_ids_that_name_nothing_are_skipped(d, bad):
    # Control: the torrent is there, by number and by hash in any case.
    got = legacy(d, "torrent-get", ids=[1, d.hash.upper()], fields=["id"])
    assert got["arguments"]["torrents"] == [{"id": 1}], got
    for ids in ([bad], bad) if bad is not None else ([bad],):  # "ids": null is every torrent
        got = legacy(d, "torrent-get", ids=ids, fields=["id", "hashString"])
        assert got["result"] == "success" and got["arguments"]["torrents"] == [], (ids, got)
        answer = jsonrpc(d, "torrent_get", {"ids": ids, "fields": ["id"]}, id=7)
        assert answer.get("result", {}).get("torrents") == [] and answer["id"] == 7, answer
    # Among real ones, only the real torrent is listed.
    got = legacy(d, "torrent-get", ids=[bad, 1, bad], fields=["id"])
    assert got["arguments"]["torrents"] == [{"id": 1}], got


def test_ten_thousand_unknown_field_names(d):
    unknown = [f"noSuchField{i}" for i in range(10_000)]
    got = legacy(d, "torrent-get", ids=[1], fields=unknown)
    assert got["result"] == "success" and got["arguments"]["torrents"] == [{}], got
    got = legacy(d, "torrent-get", ids=[1], fields=unknown[:5000] + ["id"] + unknown[5000:])
    assert got["arguments"]["torrents"] == [{"id": 1}], got
    got = legacy(d, "torrent-get", ids=[1], fields=unknown, format="table")
    assert got["arguments"]["torrents"] == [[], []], got
    # 4.1's form refuses fields that name nothing it knows.
    answer = jsonrpc(d, "torrent_get", {"ids": [1], "fields": unknown})
    assert error_of(answer) == (-32602, "Invalid params", "no fields specified"), answer
    got = legacy(d, "session-get", fields=unknown)
    assert got["result"] == "success" and got["arguments"] == {}, got
    still_sound(d)


# -- torrent-set: every argument with the wrong type --------------------------------------------
# (legacy name, 4.1 name, a value of the wrong type): the arguments rpc/transmission/torrent_set.cpp
# reads.
WRONG_TYPES = [
    ("uploadLimit", "upload_limit", "fast"),
    ("uploadLimited", "upload_limited", "yes"),
    ("downloadLimit", "download_limit", [100]),
    ("downloadLimited", "download_limited", 2),
    ("peer-limit", "peer_limit", 1.5),
    ("labels", "labels", "tv"),
    ("labels", "labels", [1, 2]),
    ("seedRatioMode", "seed_ratio_mode", "1"),
    ("seedRatioLimit", "seed_ratio_limit", "2.0"),
    ("seedIdleMode", "seed_idle_mode", {}),
    ("seedIdleLimit", "seed_idle_limit", "30"),
    ("sequentialDownload", "sequential_download", "true"),
    ("sequential_download", "sequential_download", None),
    ("files-wanted", "files_wanted", 0),
    ("files-unwanted", "files_unwanted", "0"),
    ("priority-low", "priority_low", {"0": 1}),
    ("priority-normal", "priority_normal", True),
    ("priority-high", "priority_high", [0.5]),
    ("trackerAdd", "tracker_add", 5),
    ("trackerAdd", "tracker_add", [{"url": 5}]),
    ("trackerRemove", "tracker_remove", "0"),
    ("trackerRemove", "tracker_remove", [[0]]),
    ("trackerList", "tracker_list", 5),
    ("trackerList", "tracker_list", ["http://t/announce"]),
    ("honorsSessionLimits", "honors_session_limits", "no"),
    ("bandwidthPriority", "bandwidth_priority", "high"),
    ("location", "location", 5),
]


def wrong_type_params():
    for key, current, bad in WRONG_TYPES:
        yield pytest.param(key, current, bad, id=f"{key}={json.dumps(bad)[:14]}")


@pytest.mark.parametrize("key,current,bad", wrong_type_params())
def test_a_wrong_type_for_a_torrent_set_argument_is_an_error_string(d, key, current, bad):
    got = legacy(d, "torrent-set", ids=[1], **{key: bad})
    assert got["result"] != "success", got
    assert got["tag"] == 11 and got["arguments"] == {}, got
    answer = jsonrpc(d, "torrent_set", {"ids": [1], current: bad}, id="set")
    code, _, detail = error_of(answer)
    assert answer["id"] == "set" and code != -32603 and detail, answer
    # The right type still works.
    assert legacy(d, "torrent-set", ids=[1], uploadLimit=10)["result"] == "success"
    still_sound(d)


# -- unknown methods ----------------------------------------------------------------------------
def test_unknown_methods_in_both_forms(d):
    not_recognized = {"result": "method name not recognized", "arguments": {}, "tag": 11}
    for name in ("torrent-fly", "torrent_get", "session_get", "", "x" * 10_000):
        assert legacy(d, name) == not_recognized, name
    for body in ('{"method":5}', '{"arguments":{}}', '{"method":null,"tag":3}', "[1]x", "null",
                 '"session-get"'):
        status, answer = post(d, body)
        assert status == 200, (body, status)
        assert answer in ({"result": "no method name", "arguments": {}},
                          {"jsonrpc": "2.0", "error": answer.get("error"), "id": None}), answer
    method_not_found = (-32601, "Method not found", None)
    for name in ("torrent_fly", "torrent-get", "session-get", "", "x" * 10_000):
        answer = jsonrpc(d, name, id=3)
        assert error_of(answer) == method_not_found and answer["id"] == 3, (name, answer)
    status, answer = post(d, {"jsonrpc": "2.0", "method": 5, "id": 4})
    assert status == 200 and error_of(answer) == method_not_found, answer
    # Unknown notifications are not answered; in a batch, only the calls are.
    status, answer = post(d, {"jsonrpc": "2.0", "method": "torrent_fly"})
    assert status == 204 and answer is None
    status, answer = post(d, [{"jsonrpc": "2.0", "method": "torrent_fly"},
                              {"jsonrpc": "2.0", "method": "torrent_fly", "id": 1},
                              {"jsonrpc": "2.0", "method": "session_stats", "id": 2}])
    assert status == 200 and [a["id"] for a in answer] == [1, 2], answer
    assert error_of(answer[0]) == method_not_found and "result" in answer[1], answer
    still_sound(d)


# -- credentials --------------------------------------------------------------------------------
def from_attacker(d, headers, method="POST", body='{"method":"session-get"}'):
    """One request to /transmission/rpc from ATTACKER; its status."""
    conn = http.client.HTTPConnection(d.host, d.port, timeout=30, source_address=(ATTACKER, 0))
    try:
        conn.request(method, "/transmission/rpc", body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def auth_failures(d):
    status, _, text = d.post(None, path="/metrics", method="GET")
    assert status == 200
    m = re.search(rb"^seedboxd_rpc_auth_failures_total (\d+)", text, re.M)
    assert m, text[:2000]
    return int(m.group(1))


def test_wrong_credentials_are_braked_and_missing_ones_are_not(d):
    before = auth_failures(d)
    # No credentials, or Sonarr's empty ones: the first half of Basic auth, however often.
    missing = ({}, {"Authorization": "Basic Og=="}, {"Authorization": ""})
    for headers in missing * (2 * AUTH_FAILURES):
        assert from_attacker(d, headers) == 401, headers
    # The right ones without the session id: the handshake's 409, not a failure either.
    for _ in range(2 * AUTH_FAILURES):
        assert from_attacker(d, {"Authorization": basic("any", d.token)}) == 409
    assert auth_failures(d) == before
    # Wrong ones: counted, and the last of AUTH_FAILURES in a minute brakes the address.
    wrong = [{"Authorization": basic("any", "not-the-token")},
             {"Authorization": "Basic not-base64!"},
             {"Authorization": "Bearer nope"},
             {"Authorization": basic("any", d.token[:-1])}]
    statuses = [from_attacker(d, wrong[i % len(wrong)]) for i in range(AUTH_FAILURES + 3)]
    assert statuses == [401] * (AUTH_FAILURES - 1) + [429] * 4, statuses
    assert auth_failures(d) == before + AUTH_FAILURES  # refused while braked: not counted again
    # The brake holds the address, right credentials too; other addresses are not slowed.
    assert from_attacker(d, d.gate) == 429
    still_sound(d)
