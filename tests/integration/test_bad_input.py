"""Bad input gets a clear JSON-RPC error and loses nothing: after each refusal the daemon still serves
and every torrent is intact."""
import json
import os

import pytest

from harness import Daemon, b64, mktorrent


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad")
    with Daemon(args=["--set", "torrent.max_metainfo_bytes=200000"]) as d:
        d.keep = d.add_new("keep.bin", 300_000, labels=["keep"])[0]["id"]
        d.tmp = tmp
        yield d


@pytest.fixture(autouse=True)
def nothing_lost(d):
    yield
    ids = [t["id"] for t in d.call("torrent.list", fields=["id", "labels"])["torrents"]]
    assert ids == [d.keep]
    assert d.torrent(d.keep, "labels")["labels"] == ["keep"]


def raw(d, body):
    status, _, data = d.post(body)
    assert status == 200
    return json.loads(data)


def test_malformed_json(d):
    assert raw(d, '{"jsonrpc": "2.0", "id": 1, "method": ')["error"]["code"] == -32700


def test_bad_envelopes(d):
    assert raw(d, '"just a string"')["error"]["code"] == -32600
    assert raw(d, '{"jsonrpc":"1.0","id":1,"method":"torrent.list"}')["error"]["code"] == -32600
    assert raw(d, '{"jsonrpc":"2.0","id":1}')["error"]["code"] == -32600
    assert raw(d, '[]')["error"]["code"] == -32600


def test_unknown_method(d):
    e = d.error_of("torrent.frobnicate")
    assert e.code == -32601 and "torrent.frobnicate" in e.message


def test_wrong_or_missing_params_name_the_param(d):
    e = d.error_of("torrent.remove")
    assert e.code == -32602 and '"ids"' in e.message
    e = d.error_of("torrent.remove", ids="notalist")
    assert e.code == -32602 and '"ids"' in e.message
    e = d.error_of("torrent.list", feilds=["id"])
    assert e.code == -32602 and '"feilds"' in e.message
    e = d.error_of("torrent.list", fields=["id", "colour"])
    assert e.code == -32602 and "colour" in e.message
    e = d.error_of("torrent.add")
    assert e.code == -32602 and "metainfo" in e.message
    e = d.error_of("torrent.set", ids=[d.keep], upload_limit=-5)
    assert e.code == -32602 and "upload_limit" in e.message
    e = d.error_of("session.set_settings", encryption="sometimes")
    assert e.code == -32602 and "encryption" in e.message
    e = d.error_of("session.set_settings", bogus=1)
    assert e.code == -32602 and "bogus" in e.message
    status, _, data = d.post('{"jsonrpc":"2.0","id":1,"method":"torrent.list","params":[1,2]}')
    assert json.loads(data)["error"]["code"] == -32602


def test_bad_base64(d):
    e = d.error_of("torrent.add", metainfo="@@@not base64@@@")
    assert e.code == 1012 and e.token == "invalid_base64"


@pytest.mark.parametrize("blob", [b"", b"garbage", b"i42e", b"d4:infoi1ee",
                                  b"d4:infod6:lengthi-1e4:name1:x12:piece lengthi16384e6:pieces20:"
                                  + b"a" * 20 + b"ee",
                                  b"l" * 5000 + b"e" * 5000])
def test_corrupt_torrents(d, blob):
    if not blob:
        e = d.error_of("torrent.add", metainfo="")
        assert e.code in (1002, 1012)
        return
    e = d.error_of("torrent.add", metainfo=b64(blob))
    assert e.code == 1002 and e.token == "invalid_metainfo", e.message
    assert "invalid .torrent" in e.message


def test_oversized_torrent(d):
    e = d.error_of("torrent.add", metainfo=b64(b"d" + b"x" * 300_000))
    assert e.code == 1002 and "max_metainfo_bytes" in e.message


@pytest.mark.parametrize("magnet", ["magnet:?dn=nohash", "magnet:?xt=urn:btih:zzzz",
                                    "http://example.com/x", ""])
def test_bad_magnets(d, magnet):
    e = d.error_of("torrent.add", magnet=magnet)
    assert e.code == 1003 and e.token == "invalid_magnet"
    assert "magnet" in e.message


def test_paths_escaping_the_allowed_roots(d):
    src = os.path.join(d.downloads, "keep.bin")
    meta_b64 = b64(mktorrent(src, str(d.tmp / "other.torrent"), piece_kib=32))
    for path in [os.path.join(d.downloads, "..", "elsewhere"), "/etc", "../../x"]:
        e = d.error_of("torrent.add", metainfo=meta_b64, save_path=path)
        assert e.code == 1004 and e.token == "path_not_allowed", path
        assert "outside the allowed roots" in e.message
    outside = d.tmp / "outside"
    outside.mkdir(exist_ok=True)
    link = os.path.join(d.downloads, "sneaky")
    if not os.path.islink(link):
        os.symlink(outside, link)
    e = d.error_of("torrent.add", metainfo=meta_b64, save_path=os.path.join(link, "x"))
    assert e.code == 1004
    e = d.error_of("torrent.add", path="/etc/passwd")
    assert e.code == 1004
    e = d.error_of("torrent.move", id=d.keep, path="/tmp")
    assert e.code == 1004
    e = d.error_of("torrent.create", path="/usr/share/doc")
    assert e.code == 1004


def test_unknown_torrent_ids(d):
    e = d.error_of("torrent.stop", ids=[d.keep, "00" * 20])
    assert e.code == 1001 and "00" * 20 in e.message
    # All-or-nothing: the known torrent was not stopped either.
    assert d.torrent(d.keep, "state")["state"] != "stopped"
    assert d.error_of("torrent.get", id="nope").code == 1001
    assert d.error_of("torrent.files", id="nope").code == 1001


def test_bad_file_and_tracker_edits(d):
    e = d.error_of("torrent.set_files", id=d.keep, files=[{"index": 99, "wanted": False}])
    assert e.code == 1010
    e = d.error_of("torrent.set_files", id=d.keep, files=[{"index": 0, "priority": 9}])
    assert e.code == -32602
    e = d.error_of("torrent.set_trackers", id=d.keep, add=["ftp://nope"])
    assert e.code == 1011
    e = d.error_of("torrent.add_peers", id=d.keep, peers=["not-an-endpoint"])
    assert e.code == -32602 and "not-an-endpoint" in e.message


def test_url_fetch_failures(d):
    e = d.error_of("torrent.add", url="gopher://x")
    assert e.code == 1005
    e = d.error_of("torrent.add", url="http://127.0.0.1:1/none.torrent")
    assert e.code == 1005 and "torrent.url_allow_private" in e.message


def test_the_readme_event_list_is_the_daemons(d):
    """README's list of notifications is rpc.discover's event table (rpc/methods/events.cpp, one
    row per daemon::Event), and events.subscribe accepts exactly those names."""
    import re
    readme = open(os.path.join(os.path.dirname(__file__), "..", "..", "README.md")).read()
    para = readme[readme.index("Notifications:"):]
    para = para[:para.index("The torrent events carry")]
    listed = re.findall(r"`([a-z_]+\.[a-z_]+)`", para)
    doc = d.call("rpc.discover")
    events = doc["components"]["x-events"]
    assert sorted(listed) == sorted(events)
    sub = next(m for m in doc["methods"] if m["name"] == "events.subscribe")
    assert sorted(sub["params"][0]["schema"]["items"]["enum"]) == sorted(events)


def test_the_readme_torrent_fields_and_states_are_the_daemons(d):
    """README's torrent field list and state list are the engine's field table and state table, as
    rpc.discover publishes them in torrent.get's result schema."""
    import re
    readme = open(os.path.join(os.path.dirname(__file__), "..", "..", "README.md")).read()
    para = readme[readme.index("Torrent fields for"):]
    fields_text = para[para.index("them too): `") + len("them too): `"):para.index("`. `state` is")]
    states_text = para[para.index("`state` is one of `") + len("`state` is one of `"):]
    states_text = states_text[:states_text.index("`")]
    doc = d.call("rpc.discover")
    get = next(m for m in doc["methods"] if m["name"] == "torrent.get")
    props = get["result"]["schema"]["properties"]
    assert sorted(f.strip() for f in fields_text.split(",")) == sorted(props)
    assert [s.strip() for s in re.split(r",\s*", states_text)] == props["state"]["enum"]


def test_the_readme_error_table_is_the_daemons(d):
    """README's error table and rpc.discover's components.errors list the same rows (both come from
    rpc/errors.cpp; the harness checks every error a test sees against the latter)."""
    import re
    readme = open(os.path.join(os.path.dirname(__file__), "..", "..", "README.md")).read()
    section = readme[readme.index("### Errors"):readme.index("## Configuration")]
    rows = re.findall(r"^\| (-?\d+) \| `(\w+)` \| (.+) \|$", section, re.M)
    errors = d.call("rpc.discover")["components"]["errors"]
    assert sorted((t, int(c), m) for c, t, m in rows) == \
        sorted((t, e["code"], e["message"]) for t, e in errors.items())
    assert all(e["data"] == {"token": t} for t, e in errors.items())
    # Each answer below carries the row's code for its token.
    for body, token in [("{", "parse_error"), ("[]", "invalid_request"),
                        ({"jsonrpc": "2.0", "id": 1, "method": "nope"}, "method_not_found")]:
        err = raw(d, body)["error"]
        assert (err["code"], err["data"]["token"]) == (errors[token]["code"], token)
