'use strict';
// Test-side helpers: start the double, call it, and build transactions with tronweb (offline, with
// the double's solidified block as reference) so tests speak to it the way real wallets do.
const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');
const { TronWeb, utils } = require('tronweb');

async function startDouble(args = []) {
  const proc = spawn(process.execPath, [path.join(__dirname, '..', 'double.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: proc.stdout });
    rl.once('line', resolve);
    proc.once('exit', (c) => reject(new Error(`double exited with ${c}`)));
  });
  const info = JSON.parse(line);
  const url = `http://127.0.0.1:${info.port}`;
  const post = async (p, body = {}) => {
    const r = await fetch(url + p, { method: 'POST', body: JSON.stringify(body) });
    return r.json();
  };
  return { proc, info, url, post, stop: () => proc.kill('SIGTERM') };
}

async function waitFor(fn, ms = 20000, what = 'condition') {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Builds and signs TriggerSmartContract(data) from `priv` with tronweb; returns {txID, hex, tx}.
async function signedTrigger(d, priv, contract41, selector, params, { feeLimit = 100_000_000, expirationMs = 120_000, refBlock } = {}) {
  const tw = new TronWeb({ fullHost: d.url });
  const blk = refBlock || (await d.post('/walletsolidity/getnowblock'));
  const number = blk.block_header.raw_data.number || 0;
  const blockHeader = {
    ref_block_bytes: number.toString(16).padStart(16, '0').slice(-4),
    ref_block_hash: blk.blockID.slice(16, 32),
    timestamp: blk.block_header.raw_data.timestamp,
    expiration: blk.block_header.raw_data.timestamp + expirationMs,
  };
  const owner = TronWeb.address.fromPrivateKey(priv);
  const w = await tw.transactionBuilder.triggerSmartContract(TronWeb.address.fromHex(contract41), selector,
    { feeLimit, callValue: 0, txLocal: true, blockHeader }, params, owner);
  const signed = await tw.trx.sign(w.transaction, priv);
  return { txID: signed.txID, hex: toHex(signed), tx: signed, owner };
}

function toHex(signed) {
  const pb = utils.transaction.txJsonToPb(signed);
  for (const s of signed.signature) pb.addSignature(Uint8Array.from(Buffer.from(s.replace(/^0x/, ''), 'hex')));
  return Buffer.from(pb.serializeBinary()).toString('hex');
}

module.exports = { startDouble, waitFor, signedTrigger, toHex };
