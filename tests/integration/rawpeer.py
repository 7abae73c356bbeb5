"""A deliberately minimal BitTorrent peer over plain sockets, for sending what well-behaved clients
never send: spoofed btt_pay handshakes, forged hellos, oversized and malformed messages."""
import os
import socket
import struct


def bencode(v):
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, dict):
        return b"d" + b"".join(bencode(k) + bencode(v[k]) for k in sorted(v)) + b"e"
    raise TypeError(v)


def bdecode(b, i=0):
    c = b[i:i + 1]
    if c == b"i":
        j = b.index(b"e", i)
        return int(b[i + 1:j]), j + 1
    if c == b"d":
        i, out = i + 1, {}
        while b[i:i + 1] != b"e":
            k, i = bdecode(b, i)
            out[k], i = bdecode(b, i)
        return out, i + 1
    if c == b"l":
        i, out = i + 1, []
        while b[i:i + 1] != b"e":
            x, i = bdecode(b, i)
            out.append(x)
        return out, i + 1
    j = b.index(b":", i)
    n = int(b[i:j])
    return b[j + 1:j + 1 + n], j + 1 + n


class RawPeer:
    OUR_EXT_ID = 5

    def __init__(self, host, port, info_hash, source_ip="127.0.0.20"):
        self.s = socket.socket()
        self.s.bind((source_ip, 0))
        self.s.settimeout(15)
        self.s.connect((host, port))
        reserved = bytearray(8)
        reserved[5] |= 0x10  # BEP 10 extension protocol
        self.s.sendall(b"\x13BitTorrent protocol" + bytes(reserved) + info_hash + b"-XX0001-" + os.urandom(12))
        hs = self._read(68)
        assert hs[28:48] == info_hash
        self.remote_ext = {}
        self.ext_messages = []
        self.unchoked = False
        self.payload = 0

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("peer closed")
            buf += chunk
        return buf

    def send_msg(self, msg_id, payload=b""):
        self.s.sendall(struct.pack(">IB", len(payload) + 1, msg_id) + payload)

    def send_ext(self, ext_id, body):
        self.send_msg(20, bytes([ext_id]) + body)

    def read_msg(self):
        (n,) = struct.unpack(">I", self._read(4))
        if n == 0:
            return None, b""
        body = self._read(n)
        msg_id, payload = body[0], body[1:]
        if msg_id == 1:
            self.unchoked = True
        elif msg_id == 7:
            self.payload += len(payload) - 8
        elif msg_id == 20:
            if payload[0] == 0:
                d, _ = bdecode(payload[1:])
                self.remote_ext = d
            elif payload[0] == self.OUR_EXT_ID:
                d, _ = bdecode(payload[1:])
                self.ext_messages.append(d)
        return msg_id, payload

    def pump_until(self, predicate, limit=2000):
        for _ in range(limit):
            if predicate():
                return True
            self.read_msg()
        return predicate()

    def close(self):
        self.s.close()
