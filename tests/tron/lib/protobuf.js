'use strict';
// Just enough protobuf reading for the test double to take a signed Transaction apart
// (Transaction{1: raw_data, 2: signature*}) and find the contract type inside raw_data; the fields
// themselves are decoded by tronweb's deserializeTx.

function varint(buf, pos) {
  let v = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++];
    v |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [v, pos];
    shift += 7n;
    if (shift > 63n) throw new Error('varint too long');
  }
}

// Returns [{field, wire, value (BigInt or Buffer)}] for one message; throws on malformed input.
function fields(buf) {
  const out = [];
  let pos = 0;
  while (pos < buf.length) {
    let key;
    [key, pos] = varint(buf, pos);
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      let v;
      [v, pos] = varint(buf, pos);
      out.push({ field, wire, value: v });
    } else if (wire === 2) {
      let len;
      [len, pos] = varint(buf, pos);
      const end = pos + Number(len);
      if (end > buf.length) throw new Error('truncated length-delimited field');
      out.push({ field, wire, value: buf.subarray(pos, end) });
      pos = end;
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (pos + n > buf.length) throw new Error('truncated fixed field');
      out.push({ field, wire, value: buf.subarray(pos, pos + n) });
      pos += n;
    } else {
      throw new Error(`unsupported wire type ${wire}`);
    }
  }
  return out;
}

// Signed Transaction bytes -> {raw: Buffer, signatures: [Buffer], contractType: number}
function splitTransaction(buf) {
  const f = fields(buf);
  const raw = f.find((x) => x.field === 1 && x.wire === 2);
  if (!raw) throw new Error('no raw_data');
  const signatures = f.filter((x) => x.field === 2 && x.wire === 2).map((x) => Buffer.from(x.value));
  const contract = fields(raw.value).find((x) => x.field === 11 && x.wire === 2);
  if (!contract) throw new Error('no contract');
  const type = fields(contract.value).find((x) => x.field === 1 && x.wire === 0);
  return { raw: Buffer.from(raw.value), signatures, contractType: type ? Number(type.value) : 0 };
}

module.exports = { fields, splitTransaction };
