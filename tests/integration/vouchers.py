"""Gives a providing seedboxd kept vouchers from many payers quickly: each payer is a raw btt_pay
peer (rawpeer.py) that proves its address with a hello and sends vouchers signed by tronsig.py,
as a paying client would over the wire."""
import os

import tronsig
from rawpeer import RawPeer, bencode

CHAIN = 728126428


class Payer:
    """One paying peer connected to `provider` (a harness Daemon) for torrent `tid`."""

    def __init__(self, provider, host, tid, hub_b58, source_ip, key=None):
        self.key = key or tronsig.Key()
        self.beneficiary = tronsig.b58decode_check(provider.call("wallet.address")["address"])
        self.hub = tronsig.b58decode_check(hub_b58)
        port = provider.call("session.stats")["listen_port"]
        self.p = RawPeer(host, port, bytes.fromhex(tid), source_ip=source_ip)
        self.p.send_ext(0, bencode({"m": {"btt_pay": RawPeer.OUR_EXT_ID}, "btt_pay": {
            "v": 1, "addr": self.key.addr21, "nonce": os.urandom(16), "chain": CHAIN,
            "hub": self.hub, "pays": 1}}))
        assert self.p.pump_until(lambda: b"btt_pay" in self.p.remote_ext.get(b"m", {}) and
                                 any(m.get(b"t") == b"hello" for m in self.p.ext_messages))
        self.p.send_msg(2)  # interested, so the provider keeps the connection
        self.ext = self.p.remote_ext[b"m"][b"btt_pay"]
        nonce = self.p.remote_ext[b"btt_pay"][b"nonce"]
        hello = self.key.sign_digest(tronsig.message_digest(b"btt_pay/1" + nonce + self.key.addr21))
        self.p.send_ext(self.ext, bencode({"t": "hello", "sig": hello}))

    def signature(self, cumulative):
        return self.key.sign_digest(tronsig.claim_digest(self.key.addr21, self.beneficiary,
                                                         cumulative, CHAIN, self.hub))

    def pay(self, cumulative):
        """Sends a voucher and returns the provider's answer (ack or reject)."""
        seen = len(self.p.ext_messages)
        self.p.send_ext(self.ext, bencode({"t": "voucher", "cumulative": str(cumulative),
                                           "sig": self.signature(cumulative)}))
        assert self.p.pump_until(lambda: any(m.get(b"t") in (b"ack", b"reject")
                                             for m in self.p.ext_messages[seen:]))
        return next(m for m in self.p.ext_messages[seen:] if m.get(b"t") in (b"ack", b"reject"))

    def close(self):
        self.p.close()


def source_ip(i):
    """A distinct loopback source address per payer (libtorrent allows one connection per IP)."""
    return f"127.1.{i // 250}.{i % 250 + 2}"
