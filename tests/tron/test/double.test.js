'use strict';
// The TRON HTTP API test double behaves like a node where it matters to settlement: checks on
// broadcast, inclusion, solidification, execution in the EVM and each injected fault.
const test = require('node:test');
const assert = require('node:assert/strict');
const { TronWeb } = require('tronweb');
const { SigningKey } = require('ethers');
const { startDouble, waitFor, signedTrigger, toHex } = require('../lib/client');

const PRIV = '0b7f8ae9b0b3a06c3d3a2a9f8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c';
const ADDR = TronWeb.address.toHex(TronWeb.address.fromPrivateKey(PRIV)).toLowerCase();
const SPENDER = '41' + '11'.repeat(20);
let d;

test.before(async () => {
  d = await startDouble(['--block-ms', '50', '--solid-lag', '20']);
  await d.post('/test/fund', { address: ADDR, trx: 1_000_000_000, btt: '1000' });
});
test.after(() => d.stop());

const approve = (opts) => signedTrigger(d, PRIV, d.info.token, 'approve(address,uint256)',
  [{ type: 'address', value: TronWeb.address.fromHex(SPENDER) }, { type: 'uint256', value: opts?.amount ?? 5 }], opts);
const info = (p, id) => d.post(`/${p}/gettransactioninfobyid`, { value: id });

test('blocks advance 3 s apart and the solidity view lags', async () => {
  const i = await d.post('/test/info'); // head and solid head read together (blocks keep coming)
  assert.equal(i.head - i.solid, 20);
  const s = await d.post('/walletsolidity/getnowblock');
  assert.ok(s.block_header.raw_data.number >= i.solid);
  const a = await d.post('/wallet/getnowblock');
  assert.equal(a.blockID.slice(0, 16), a.block_header.raw_data.number.toString(16).padStart(16, '0'));
  const b = await d.post('/wallet/getblock', { id_or_num: String(s.block_header.raw_data.number + 1), detail: false });
  assert.equal(b.block_header.raw_data.timestamp - s.block_header.raw_data.timestamp, 3000);
  assert.deepEqual(await d.post('/walletsolidity/getblock', { id_or_num: String(a.block_header.raw_data.number) }), {});
});

test('a signed transaction is accepted, included, executed, then solidified', async () => {
  const t = await approve();
  const r = await d.post('/wallet/broadcasthex', { transaction: t.hex });
  assert.equal(r.result, true, JSON.stringify(r));
  assert.equal(r.txid, t.txID);
  const inc = await waitFor(async () => (await info('wallet', t.txID)).blockNumber, 5000, 'inclusion');
  assert.ok(inc > 0);
  const i = await info('wallet', t.txID);
  assert.equal(i.receipt.result, 'SUCCESS');
  assert.ok(i.receipt.energy_usage_total > 10000);
  assert.equal(i.log[0].topics[0], '8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925'); // Approval
  assert.deepEqual(await info('walletsolidity', t.txID), {}); // not solid yet (unless very slow)
  await waitFor(async () => (await info('walletsolidity', t.txID)).id === t.txID, 5000, 'solidification');
  const tx = await d.post('/walletsolidity/gettransactionbyid', { value: t.txID });
  assert.deepEqual(tx.ret, [{ contractRet: 'SUCCESS' }]);
  assert.equal(tx.raw_data_hex, t.tx.raw_data_hex);
  const again = await d.post('/wallet/broadcasthex', { transaction: t.hex });
  assert.equal(again.code, 'DUP_TRANSACTION_ERROR');
  const c = await d.post('/wallet/triggerconstantcontract', { owner_address: ADDR, contract_address: d.info.token,
    function_selector: 'allowance(address,address)', parameter: '0'.repeat(24) + ADDR.slice(2) + '0'.repeat(24) + SPENDER.slice(2) });
  assert.equal(BigInt('0x' + c.constant_result[0]), 5n);
});

test('bad signatures, stale references and expired transactions are refused', async () => {
  const t = await approve({ amount: 6 });
  const flipped = t.hex.slice(0, -4) + ((parseInt(t.hex.slice(-4, -2), 16) ^ 1).toString(16).padStart(2, '0')) + t.hex.slice(-2);
  assert.equal((await d.post('/wallet/broadcasthex', { transaction: flipped })).code, 'SIGERROR');
  const other = '1'.repeat(64);
  const foreign = await signedTrigger(d, other, d.info.token, 'approve(address,uint256)',
    [{ type: 'address', value: TronWeb.address.fromHex(SPENDER) }, { type: 'uint256', value: 1 }]);
  // ADDR's raw data signed with another key
  const { tx } = await approve({ amount: 7 });
  const sig = new SigningKey('0x' + other).sign('0x' + tx.txID).serialized.slice(2);
  assert.equal((await d.post('/wallet/broadcasthex', { transaction: toHex({ ...tx, signature: [sig] }) })).code, 'SIGERROR');
  assert.equal((await d.post('/wallet/broadcasthex', { transaction: foreign.hex })).code, 'CONTRACT_VALIDATE_ERROR'); // unfunded account
  const blk = await d.post('/walletsolidity/getnowblock');
  blk.blockID = blk.blockID.slice(0, 16) + 'ff'.repeat(24);
  const tapos = await approve({ amount: 8, refBlock: blk });
  assert.equal((await d.post('/wallet/broadcasthex', { transaction: tapos.hex })).code, 'TAPOS_ERROR');
  const expired = await approve({ amount: 9, expirationMs: 3000 }); // solid block + 3 s < head
  assert.equal((await d.post('/wallet/broadcasthex', { transaction: expired.hex })).code, 'TRANSACTION_EXPIRATION_ERROR');
  const far = await approve({ amount: 10, expirationMs: 25 * 3600 * 1000 });
  assert.equal((await d.post('/wallet/broadcasthex', { transaction: far.hex })).code, 'TRANSACTION_EXPIRATION_ERROR');
});

test('injected faults: busy, dropped, never included, reverted, restart', async () => {
  await d.post('/test/fault', { kind: 'server_busy' });
  const t1 = await approve({ amount: 11 });
  assert.equal((await d.post('/wallet/broadcasthex', { transaction: t1.hex })).code, 'SERVER_BUSY');
  assert.equal((await d.post('/wallet/broadcasthex', { transaction: t1.hex })).result, true); // same bytes again

  await d.post('/test/fault', { kind: 'accept_drop' });
  const t2 = await approve({ amount: 12 });
  assert.equal((await d.post('/wallet/broadcasthex', { transaction: t2.hex })).result, true);
  const head = (await d.post('/wallet/getnowblock')).block_header.raw_data.number;
  await waitFor(async () => (await d.post('/wallet/getnowblock')).block_header.raw_data.number > head + 3, 5000, 'blocks');
  assert.deepEqual(await info('wallet', t2.txID), {});
  assert.equal((await d.post('/wallet/broadcasthex', { transaction: t2.hex })).result, true); // a resend lands

  await d.post('/test/fault', { kind: 'never_include' });
  const t3 = await approve({ amount: 13, expirationMs: 75_000 }); // ~5 blocks past the head
  assert.equal((await d.post('/wallet/broadcasthex', { transaction: t3.hex })).result, true);
  const exp = t3.tx.raw_data.expiration;
  await waitFor(async () => (await d.post('/walletsolidity/getnowblock')).block_header.raw_data.timestamp > exp, 10000, 'expiry');
  assert.deepEqual(await info('walletsolidity', t3.txID), {});
  assert.deepEqual(await d.post('/wallet/gettransactionbyid', { value: t3.txID }), {});
  assert.equal((await d.post('/wallet/broadcasthex', { transaction: t3.hex })).code, 'TRANSACTION_EXPIRATION_ERROR');

  await d.post('/test/fault', { kind: 'revert' });
  const t4 = await approve({ amount: 14 });
  assert.equal((await d.post('/wallet/broadcasthex', { transaction: t4.hex })).result, true);
  const i4 = await waitFor(async () => { const i = await info('wallet', t4.txID); return i.receipt && i; }, 5000, 'inclusion');
  assert.equal(i4.receipt.result, 'REVERT');
  assert.equal(i4.result, 'FAILED');

  await d.post('/test/fault', { kind: 'restart', ms: 500 });
  await assert.rejects(d.post('/wallet/getnowblock'));
  await assert.rejects(d.post('/wallet/getnowblock')); // port closed while restarting
  await waitFor(async () => { try { return (await d.post('/wallet/getnowblock')).blockID; } catch { return false; } }, 5000, 'restart');
});
