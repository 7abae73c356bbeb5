'use strict';
// A TRON full-node HTTP API test double (design.md §8, tron.md §5). It produces blocks on a fast
// clock (block timestamps 3 s apart, produced every --block-ms of real time) with a solidification
// lag, checks every broadcast the way java-tron does (txID, expiration window, TaPoS reference
// block, signature via tronweb, duplicates, fee_limit range), executes TriggerSmartContract against
// the real compiled claim hub and an ERC-20 in @ethereumjs/evm, and injects faults on request.
//
//   node double.js [--port 0] [--block-ms 200] [--solid-lag 19] [--chain-id 728126428]
//                  [--withdraw-delay 3600]
// Prints one JSON line on stdout once listening: {port, hub, token, chain_id, ...}.
// Test-only control endpoints live under /test/ (fund, fault, info, balances, call).
const crypto = require('node:crypto');
const http = require('node:http');
const { parseArgs } = require('node:util');
const { utils, Trx, TronWeb } = require('tronweb');
const { Chain, DEPLOYER } = require('./lib/chain');
const { splitTransaction } = require('./lib/protobuf');

const { values: opt } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'block-ms': { type: 'string', default: '200' },
    'solid-lag': { type: 'string', default: '19' },
    'chain-id': { type: 'string', default: '728126428' },
    'withdraw-delay': { type: 'string', default: '3600' },
  },
});

const BLOCK_INTERVAL = 3000; // ms of chain time per block (Parameter.BLOCK_PRODUCED_INTERVAL)
const MAX_EXPIRATION = 86_400_000; // Constant.MAXIMUM_TIME_UNTIL_EXPIRATION
const ENERGY_FEE = 100; // sun per energy
const MAX_FEE_LIMIT = 15_000_000_000;
const FREE_NET = 600;
const blockMs = Number(opt['block-ms']);
const solidLag = Number(opt['solid-lag']);

const sha256 = (b) => crypto.createHash('sha256').update(b).digest();
const to41 = (h20) => '41' + h20;
const to20 = (a) => {
  const h = a.startsWith('T') ? TronWeb.address.toHex(a) : a;
  return h.toLowerCase().replace(/^0x/, '').slice(-40);
};

// ---- chain state -------------------------------------------------------------------------------
const chain = new Chain({ chainId: Number(opt['chain-id']), withdrawDelay: Number(opt['withdraw-delay']) });
const blocks = []; // {number, id, timestamp, parent, txids}
const txs = new Map(); // txID -> {hex, json, raw, owner, block?, info?, ret?}
const pending = []; // txIDs waiting for the next block
const trx = new Map(); // 20-byte hex -> sun
const created = new Map(); // 20-byte hex -> create_time
const netUsed = new Map(); // free bandwidth used per account (never reset: tests are short)
const faults = []; // {kind, count, ms?}

// A fault may be limited to one endpoint (`path`); without one it hits the next matching request.
function takeFault(kinds, path) {
  const i = faults.findIndex((f) => kinds.includes(f.kind) && (!f.path || f.path === path));
  if (i < 0) return null;
  const f = faults[i];
  if (--f.count <= 0) faults.splice(i, 1);
  return f;
}

function head() { return blocks[blocks.length - 1]; }
function solidHead() { return blocks[Math.max(0, blocks.length - 1 - solidLag)]; }

function makeBlock(txids) {
  const parent = blocks.length ? head() : null;
  const number = parent ? parent.number + 1 : 0;
  const timestamp = parent ? parent.timestamp + BLOCK_INTERVAL : Math.floor(Date.now() / BLOCK_INTERVAL) * BLOCK_INTERVAL;
  const numHex = number.toString(16).padStart(16, '0');
  const digest = sha256(Buffer.from(`${parent ? parent.id : ''}|${number}|${timestamp}|${txids.join(',')}`)).toString('hex');
  const b = { number, id: numHex + digest.slice(16), timestamp, parent: parent ? parent.id : '0'.repeat(64), txids };
  blocks.push(b);
  return b;
}

function blockJson(b, detail) {
  const out = {
    blockID: b.id,
    block_header: {
      raw_data: {
        number: b.number || undefined, txTrieRoot: sha256(Buffer.from(b.txids.join(''))).toString('hex'),
        witness_address: '41' + 'ab'.repeat(20), parentHash: b.parent, version: 30, timestamp: b.timestamp,
      },
      witness_signature: 'cd'.repeat(65),
    },
  };
  if (detail && b.txids.length) out.transactions = b.txids.map((id) => txJson(txs.get(id)));
  return out;
}

function txJson(t) {
  const j = { ...t.json };
  if (t.block !== undefined) j.ret = [t.ret === 'SUCCESS' ? { contractRet: 'SUCCESS' } : { contractRet: t.ret }];
  return j;
}

// Executes one transaction in the block being produced and records its info (tron.md §5 shapes).
async function execute(t, b) {
  const info = { id: t.id, blockNumber: b.number, blockTimeStamp: b.timestamp };
  const size = t.raw.length + 64 + 65 * t.json.signature.length;
  const used = netUsed.get(t.owner) || 0;
  const netFree = Math.max(0, Math.min(size, FREE_NET - used));
  netUsed.set(t.owner, used + netFree);
  const netFee = (size - netFree) * 1000;
  const receipt = { net_usage: netFree || undefined, net_fee: netFee || undefined };
  trx.set(t.owner, (trx.get(t.owner) || 0) - netFee);
  if (t.type === 'TransferContract') {
    const v = t.json.raw_data.contract[0].parameter.value;
    const to = to20(v.to_address);
    trx.set(t.owner, trx.get(t.owner) - v.amount);
    trx.set(to, (trx.get(to) || 0) + v.amount);
    if (!created.has(to)) created.set(to, b.timestamp);
    t.ret = 'SUCCESS';
  } else {
    const v = t.json.raw_data.contract[0].parameter.value;
    const balance = trx.get(t.owner) || 0;
    const limit = Math.floor(Math.min(t.json.raw_data.fee_limit || 0, balance) / ENERGY_FEE);
    const forced = t.forceRevert;
    const r = await chain.call(t.owner, to20(v.contract_address), v.data || '', { commit: !forced, energyLimit: limit });
    let result;
    if (forced) result = 'REVERT';
    else if (r.ok) result = 'SUCCESS';
    else if (r.reverted) result = 'REVERT';
    else if (/out of gas/i.test(r.error || '')) result = 'OUT_OF_ENERGY';
    else result = 'OTHER_ERROR';
    const energy = result === 'OUT_OF_ENERGY' ? limit : r.energy;
    const fee = energy * ENERGY_FEE;
    trx.set(t.owner, trx.get(t.owner) - fee);
    Object.assign(receipt, {
      energy_usage_total: energy || undefined, energy_fee: fee || undefined, result,
    });
    info.contract_address = v.contract_address;
    info.contractResult = [r.returnHex];
    if (result === 'SUCCESS' && r.logs.length) info.log = r.logs;
    if (result !== 'SUCCESS') {
      info.result = 'FAILED';
      info.resMessage = Buffer.from(result === 'REVERT' ? 'REVERT opcode executed' : result).toString('hex');
    }
    t.ret = result;
    info.fee = fee + netFee || undefined;
  }
  if (t.type === 'TransferContract') info.fee = netFee || undefined;
  info.receipt = receipt;
  t.info = info;
  t.block = b.number;
}

let producing = Promise.resolve();
function produce() {
  producing = producing.then(async () => {
    const now = blocks.length ? head().timestamp + BLOCK_INTERVAL : 0;
    const ready = [];
    for (let i = 0; i < pending.length;) {
      const t = txs.get(pending[i]);
      if (t.neverInclude) { // held back until it expires, then forgotten
        if (t.json.raw_data.expiration <= now) { pending.splice(i, 1); txs.delete(t.id); } else i++;
        continue;
      }
      if (t.json.raw_data.expiration <= now) { pending.splice(i, 1); txs.delete(t.id); continue; }
      ready.push(t);
      pending.splice(i, 1);
    }
    const b = makeBlock(ready.map((t) => t.id));
    chain.setBlock(b.number, b.timestamp);
    for (const t of ready) await execute(t, b);
  }).catch((e) => console.error('block production failed:', e));
  return producing;
}

// ---- request handling --------------------------------------------------------------------------
function bad(msg) { return { Error: `class java.lang.IllegalArgumentException : ${msg}` }; }

function broadcastError(code, message, txid) {
  return { result: false, code, message, txid };
}

function parseSigned(hex) {
  const bytes = Buffer.from(hex, 'hex');
  if (!/^[0-9a-fA-F]*$/.test(hex) || bytes.length * 2 !== hex.length) throw new Error('not hex');
  const { raw, signatures, contractType } = splitTransaction(bytes);
  const typeName = { 1: 'TransferContract', 31: 'TriggerSmartContract' }[contractType];
  if (!typeName) throw new Error(`unsupported contract type ${contractType}`);
  const d = utils.deserializeTx.deserializeTransaction(typeName, raw.toString('hex'));
  const p = d.contract[0].parameter.value;
  const value = typeName === 'TransferContract'
    ? { amount: Number(p.amount), owner_address: p.owner_address.toLowerCase(), to_address: p.to_address.toLowerCase() }
    : { data: (p.data || '').toLowerCase() || undefined, owner_address: p.owner_address.toLowerCase(),
        contract_address: p.contract_address.toLowerCase(), call_value: Number(p.call_value) || undefined };
  const rawJson = {
    contract: [{ parameter: { value, type_url: `type.googleapis.com/protocol.${typeName}` }, type: typeName }],
    ref_block_bytes: d.ref_block_bytes.toLowerCase(), ref_block_hash: d.ref_block_hash.toLowerCase(),
    expiration: d.expiration, timestamp: d.timestamp || undefined, fee_limit: d.fee_limit || undefined,
  };
  const id = sha256(raw).toString('hex');
  const json = { visible: false, txID: id, raw_data: rawJson, raw_data_hex: raw.toString('hex'),
    signature: signatures.map((s) => s.toString('hex')) };
  return { id, raw, json, type: typeName, owner: to20(value.owner_address) };
}

function checkTransaction(t) {
  const h = head();
  const rd = t.json.raw_data;
  // TaPoS: the 2-byte number suffix must name a recent block whose id bytes 8..16 match.
  const ref = blocks.slice(-65536).reverse().find((b) => b.number.toString(16).padStart(16, '0').slice(-4) === rd.ref_block_bytes);
  if (!ref || ref.id.slice(16, 32) !== rd.ref_block_hash) {
    return broadcastError('TAPOS_ERROR', `Tapos check error.`, t.id);
  }
  if (!(rd.expiration > h.timestamp && rd.expiration <= h.timestamp + MAX_EXPIRATION)) {
    return broadcastError('TRANSACTION_EXPIRATION_ERROR', 'Transaction expired', t.id);
  }
  if (t.json.signature.length !== 1 || t.json.signature[0].length !== 130) {
    return broadcastError('SIGERROR', 'Validate signature error: signature count or size', t.id);
  }
  let signer;
  try {
    signer = to20(Trx.ecRecover(t.json)); // tronweb re-serializes raw_data and checks the txID too
  } catch (e) {
    return broadcastError('SIGERROR', `Validate signature error: ${e.message || e}`, t.id);
  }
  if (signer !== t.owner) return broadcastError('SIGERROR', `Validate signature error: ${to41(signer)} is not the owner`, t.id);
  if (t.type === 'TriggerSmartContract') {
    const fl = rd.fee_limit || 0;
    if (fl < 0 || fl > MAX_FEE_LIMIT) return broadcastError('CONTRACT_VALIDATE_ERROR', `Contract validate error : feeLimit must be >= 0 and <= ${MAX_FEE_LIMIT}`, t.id);
  }
  if (!trx.has(t.owner)) return broadcastError('CONTRACT_VALIDATE_ERROR', 'Contract validate error : account does not exist', t.id);
  return null;
}

const handlers = {
  '/wallet/getnowblock': () => blockJson(head(), true),
  '/walletsolidity/getnowblock': () => blockJson(solidHead(), true),
  '/wallet/getblock': (q) => getBlock(q, head()),
  '/walletsolidity/getblock': (q) => getBlock(q, solidHead()),
  '/wallet/getblockbynum': (q) => { const b = blocks[Number(q.num)]; return b ? blockJson(b, true) : {}; },
  '/walletsolidity/getblockbynum': (q) => { const b = blocks[Number(q.num)]; return b && b.number <= solidHead().number ? blockJson(b, true) : {}; },
  '/wallet/triggerconstantcontract': (q) => constantCall(q),
  '/walletsolidity/triggerconstantcontract': (q) => constantCall(q),
  '/wallet/estimateenergy': async (q) => {
    const r = await constantCall(q);
    if (!r.result || !r.result.result) return r;
    return { result: { result: true }, energy_required: r.energy_used };
  },
  '/wallet/broadcasthex': (q) => broadcast(q),
  '/wallet/gettransactionbyid': (q) => { const t = txs.get(q.value); return t && t.block !== undefined ? txJson(t) : {}; },
  '/walletsolidity/gettransactionbyid': (q) => { const t = txs.get(q.value); return t && t.block !== undefined && t.block <= solidHead().number ? txJson(t) : {}; },
  '/wallet/gettransactioninfobyid': (q) => { const t = txs.get(q.value); return t && t.info ? t.info : {}; },
  '/walletsolidity/gettransactioninfobyid': (q) => { const t = txs.get(q.value); return t && t.info && t.block <= solidHead().number ? t.info : {}; },
  '/wallet/getaccount': (q) => account(q),
  '/walletsolidity/getaccount': (q) => account(q),
  '/wallet/getaccountresource': (q) => {
    const a = to20(q.address || '');
    if (!trx.has(a)) return {};
    return { freeNetUsed: netUsed.get(a) || undefined, freeNetLimit: FREE_NET, TotalNetLimit: 43_200_000_000, TotalNetWeight: 84_000_000_000, TotalEnergyLimit: 180_000_000_000, TotalEnergyWeight: 15_000_000_000 };
  },
  '/wallet/getchainparameters': () => ({ chainParameter: [
    { key: 'getMaintenanceTimeInterval', value: 21_600_000 },
    { key: 'getTransactionFee', value: 1000 },
    { key: 'getEnergyFee', value: ENERGY_FEE },
    { key: 'getMaxFeeLimit', value: MAX_FEE_LIMIT },
    { key: 'getAllowTvmIstanbul', value: 1 },
  ] }),
  // ---- test control ----
  '/test/info': () => info(),
  '/test/fund': async (q) => {
    const a = to20(q.address);
    if (q.trx) { trx.set(a, (trx.get(a) || 0) + Number(q.trx)); if (!created.has(a)) created.set(a, head().timestamp); }
    if (q.btt) await chain.mint(a, BigInt(q.btt));
    return { ok: true, trx: trx.get(a) || 0, btt: (await chain.balanceOf(a)).toString() };
  },
  '/test/balances': async (q) => {
    const out = {};
    for (const addr of q.addresses || []) {
      const a = to20(addr);
      const [dep] = await chain.view('deposits', ['0x' + a]);
      out[addr] = { trx: trx.get(a) || 0, btt: (await chain.balanceOf(a)).toString(), deposit: dep.toString() };
    }
    return out;
  },
  '/test/paid': async (q) => {
    const [p] = await chain.view('paid', ['0x' + to20(q.payer), '0x' + to20(q.beneficiary)]);
    return { paid: p.toString() };
  },
  // Deposits for a payer the test controls by key elsewhere (e.g. a raw btt_pay peer): mint,
  // approve and deposit executed directly as that address, without a transaction.
  '/test/deposit': async (q) => {
    const a = to20(q.address);
    const amount = BigInt(q.amount);
    await chain.mint(a, amount);
    const ok1 = await chain.tokenCall(a, 'approve', ['0x' + chain.hub, amount]);
    const ok2 = await chain.hubCall(a, 'deposit', [amount]);
    if (!ok1.ok || !ok2.ok) throw new Error('deposit failed');
    const [dep] = await chain.view('deposits', ['0x' + a]);
    return { ok: true, deposit: dep.toString() };
  },
  '/test/fault': (q) => {
    faults.push({ kind: q.kind, count: q.count || 1, ms: q.ms || 0, path: q.path || '' });
    return { ok: true, faults };
  },
  '/test/clear_faults': () => { faults.length = 0; return { ok: true }; },
  '/test/transactions': () => ({ transactions: [...txs.values()].map((t) => ({ txID: t.id, block: t.block, ret: t.ret, owner: to41(t.owner) })) }),
};

function getBlock(q, top) {
  if (q.id_or_num === undefined || q.id_or_num === '') return blockJson(top, q.detail);
  const s = String(q.id_or_num);
  const b = s.length === 64 ? blocks.find((x) => x.id === s) : blocks[Number(s)];
  return b && b.number <= top.number ? blockJson(b, q.detail) : {};
}

function account(q) {
  const a = to20(q.address || '');
  if (!trx.has(a)) return {};
  return { address: to41(a), balance: trx.get(a) || undefined, create_time: created.get(a) };
}

async function constantCall(q) {
  const owner = to20(q.owner_address || to41(DEPLOYER));
  const contract = to20(q.contract_address || '');
  let data = q.data;
  if (!data && q.function_selector) {
    const sel = utils.ethersUtils.keccak256(Buffer.from(q.function_selector)).slice(2, 10);
    data = sel + (q.parameter || '');
  }
  const r = await chain.call(owner, contract, data || '', { commit: false });
  const out = { result: {}, energy_used: r.energy || undefined, constant_result: [r.returnHex], transaction: { visible: false, txID: '' } };
  if (r.ok) out.result.result = true;
  else {
    out.result.code = 'CONTRACT_EXE_ERROR';
    out.result.message = r.reverted ? 'REVERT opcode executed' : String(r.error);
  }
  return out;
}

async function broadcast(q) {
  if (typeof q.transaction !== 'string') return bad('transaction is required');
  const busy = takeFault(['server_busy'], '/wallet/broadcasthex');
  if (busy) return { result: false, code: 'SERVER_BUSY', message: 'Server busy.' };
  let t;
  try {
    t = parseSigned(q.transaction);
  } catch (e) {
    return { result: false, code: 'OTHER_ERROR', message: `bad transaction: ${e.message}` };
  }
  if (txs.has(t.id)) {
    return broadcastError('DUP_TRANSACTION_ERROR', txs.get(t.id).block !== undefined ? 'Dup transaction.' : 'Transaction already exists.', t.id);
  }
  const err = checkTransaction(t);
  if (err) return err;
  if (takeFault(['accept_drop'], '/wallet/broadcasthex')) return { result: true, code: 'SUCCESS', message: '', txid: t.id }; // lost after acceptance
  if (takeFault(['never_include'], '/wallet/broadcasthex')) t.neverInclude = true;
  if (t.type === 'TriggerSmartContract' && takeFault(['revert'], '/wallet/broadcasthex')) t.forceRevert = true;
  txs.set(t.id, t);
  pending.push(t.id);
  return { result: true, code: 'SUCCESS', message: '', transaction: JSON.stringify(t.json), txid: t.id };
}

async function info() {
  return {
    port: server.address().port, chain_id: chain.chainId,
    hub: to41(chain.hub), hub_base58: TronWeb.address.fromHex(to41(chain.hub)),
    token: to41(chain.token), token_base58: TronWeb.address.fromHex(to41(chain.token)),
    head: head().number, solid: solidHead().number, block_ms: blockMs, solid_lag: solidLag,
    withdraw_delay: chain.withdrawDelay, api_keys_seen: [...apiKeys],
  };
}

const sockets = new Set();
let restarting = false;
const apiKeys = new Set(); // TRON-PRO-API-KEY values seen, so tests can check the header is sent
const server = http.createServer((req, res) => {
  if (req.headers['tron-pro-api-key']) apiKeys.add(req.headers['tron-pro-api-key']);
  let body = '';
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size > 4 << 20) { res.writeHead(413); res.end(); req.destroy(); return; }
    body += c;
  });
  req.on('end', async () => {
    const path = req.url.split('?')[0];
    const handler = handlers[path];
    const send = (obj) => {
      const s = JSON.stringify(obj, (k, v) => (typeof v === 'bigint' ? v.toString() : v));
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(s);
    };
    if (!handler) { res.writeHead(404); res.end(); return; }
    if (!path.startsWith('/test/')) {
      const f = takeFault(['timeout', 'restart'], path);
      if (f && f.kind === 'timeout') { setTimeout(() => req.socket.destroy(), f.ms || 3000); return; }
      if (f && f.kind === 'restart') { restart(f.ms || 1000); req.socket.destroy(); return; }
    }
    let q = {};
    try { if (body) q = JSON.parse(body); } catch { send(bad('invalid JSON')); return; }
    try { send(await handler(q)); } catch (e) { send({ Error: `class java.lang.Exception : ${e.message}` }); }
  });
});
server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });

// A node restart: the port closes, every connection drops, the pending pool is lost (included
// transactions and the chain survive), and the node comes back after `ms`.
function restart(ms) {
  if (restarting) return;
  restarting = true;
  const port = server.address().port;
  for (const id of pending.splice(0)) txs.delete(id);
  server.close();
  for (const s of sockets) s.destroy();
  setTimeout(() => { server.listen(port, '127.0.0.1', () => { restarting = false; }); }, ms);
}

async function main() {
  await chain.init();
  makeBlock([]);
  chain.setBlock(0, head().timestamp);
  for (let i = 0; i < solidLag + 1; i++) await produce(); // a solidified block exists from the start
  trx.set(DEPLOYER, 0);
  setInterval(produce, blockMs);
  server.listen(Number(opt.port), '127.0.0.1', async () => {
    process.stdout.write(JSON.stringify(await info()) + '\n');
  });
}

main().catch((e) => { console.error(e); process.exit(1); });
process.on('SIGTERM', () => process.exit(0));
