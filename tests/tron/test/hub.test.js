'use strict';
// The claim hub, compiled by the pinned solc and run in @ethereumjs/evm against OpenZeppelin's
// ERC-20. Vouchers are signed here with ethers (EIP-712 over 20-byte addresses is TIP-712).
const test = require('node:test');
const assert = require('node:assert/strict');
const { Wallet, TypedDataEncoder, Signature, getBytes, hexlify } = require('ethers');
const { Chain, strip } = require('../lib/chain');
const { compile, push0Offsets } = require('../lib/compile');

const E18 = 10n ** 18n;
// Stated budget for a 100-claim batch of first-time (payer, provider) pairs: every entry writes two
// fresh storage slots, checks one signature and logs one event.
const ENERGY_BUDGET_100 = 4_000_000;

const TYPES = { Claim: [
  { name: 'payer', type: 'address' }, { name: 'beneficiary', type: 'address' }, { name: 'cumulative', type: 'uint256' },
] };

function domain(chain, hub = chain.hub, chainId = chain.chainId) {
  return { name: 'SeedboxClaimHub', version: '1', chainId, verifyingContract: '0x' + hub };
}
function voucher(chain, payer, beneficiary, cumulative, opts = {}) {
  const d = domain(chain, opts.hub, opts.chainId);
  const digest = TypedDataEncoder.hash(d, TYPES, { payer: payer.address, beneficiary: '0x' + beneficiary, cumulative });
  return payer.signingKey.sign(digest).serialized; // 65 bytes, v = 27/28, low s
}
const id = (w) => strip(w.address);

async function fund(chain, payer, amount) {
  await chain.mint(id(payer), amount);
  assert.ok((await chain.tokenCall(id(payer), 'approve', ['0x' + chain.hub, amount])).ok);
  const r = await chain.hubCall(id(payer), 'deposit', [amount]);
  assert.ok(r.ok, r.error);
}
async function claim(chain, provider, entries) {
  const r = await chain.hubCall(provider, 'claimBatch', [
    entries.map((e) => e[0].address), entries.map((e) => e[1]), entries.map((e) => e[2])]);
  assert.ok(r.ok, `claimBatch failed: ${r.error}`);
  return { ...r, events: chain.decodeHubLogs(r.logs) };
}

async function fresh() {
  return new Chain({ withdrawDelay: 3600 }).init();
}

test('bytecode has no PUSH0 (TVM) and was built for the pinned EVM version', () => {
  const a = compile();
  assert.equal(a.evmVersion, 'istanbul');
  assert.match(a.solc, /^0\.8\.26\+/);
  for (const c of [a.hub, a.token]) {
    assert.deepEqual(push0Offsets(c.bytecode), []);
    assert.deepEqual(push0Offsets(c.deployed), []);
  }
  // The walker must be able to find one: PUSH1 0x5f is data, a bare 5f is an opcode.
  assert.deepEqual(push0Offsets('605f5f'), [2]);
});

test('the hub computes the same TIP-712 digest as ethers for its own domain', async () => {
  const chain = await fresh();
  const payer = Wallet.createRandom();
  const ben = strip(Wallet.createRandom().address);
  const [onchain] = await chain.view('claimDigest', [payer.address, '0x' + ben, 123456789n * E18]);
  const expected = TypedDataEncoder.hash(domain(chain), TYPES, { payer: payer.address, beneficiary: '0x' + ben, cumulative: 123456789n * E18 });
  assert.equal(onchain, expected);
});

test('claims pay exactly the delta; replays and lower cumulatives pay zero', async () => {
  const chain = await fresh();
  const payer = Wallet.createRandom();
  const provider = strip(Wallet.createRandom().address);
  await fund(chain, payer, 1000n * E18);

  let r = await claim(chain, provider, [[payer, 100n * E18, voucher(chain, payer, provider, 100n * E18)]]);
  assert.equal(r.events[0].name, 'Claimed');
  assert.equal(r.events[0].args.amount, 100n * E18);
  assert.equal(await chain.balanceOf(provider), 100n * E18);

  const v250 = voucher(chain, payer, provider, 250n * E18 + 7n);
  r = await claim(chain, provider, [[payer, 250n * E18 + 7n, v250]]);
  assert.equal(r.events[0].args.amount, 150n * E18 + 7n);
  assert.equal(await chain.balanceOf(provider), 250n * E18 + 7n);

  r = await claim(chain, provider, [[payer, 250n * E18 + 7n, v250], [payer, 100n * E18, voucher(chain, payer, provider, 100n * E18)]]);
  assert.deepEqual(r.events.map((e) => [e.name, Number(e.args.reason)]), [['Skipped', 2], ['Skipped', 2]]);
  assert.equal(await chain.balanceOf(provider), 250n * E18 + 7n);
  const [paid] = await chain.view('paid', [payer.address, '0x' + provider]);
  assert.equal(paid, 250n * E18 + 7n);
  const [left] = await chain.view('deposits', [payer.address]);
  assert.equal(left, 750n * E18 - 7n);
});

test('forged, foreign and malformed vouchers are skipped without reverting the batch', async () => {
  const chain = await fresh();
  const payer = Wallet.createRandom();
  const other = Wallet.createRandom();
  const provider = strip(Wallet.createRandom().address);
  const elsewhere = strip(Wallet.createRandom().address);
  await fund(chain, payer, 1000n * E18);
  const amt = 10n * E18;
  const good = voucher(chain, payer, provider, amt);
  const sig = Signature.from(good);
  // The same signature malleated to high s (n - s, other v): ecrecover accepts it, the hub must not.
  const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
  const highS = sig.r + (N - BigInt(sig.s)).toString(16).padStart(64, '0') + (sig.v === 27 ? '1c' : '1b');
  const entries = [
    [payer, amt, voucher(chain, other, provider, amt)],                   // signed by another key
    [payer, amt, voucher(chain, payer, elsewhere, amt)],                  // for another beneficiary
    [payer, amt, voucher(chain, payer, provider, amt, { hub: elsewhere })], // for another hub
    [payer, amt, voucher(chain, payer, provider, amt, { chainId: 3448148188 })], // another chain (Nile)
    [payer, amt + 1n, good],                                              // amount does not match
    [payer, amt, highS],                                       // malleated (high s)
    [payer, amt, hexlify(getBytes(good).slice(0, 64))],                   // truncated
    [payer, amt, good],                                                   // the one good entry
  ];
  const r = await claim(chain, provider, entries);
  assert.deepEqual(r.events.map((e) => e.name), ['Skipped', 'Skipped', 'Skipped', 'Skipped', 'Skipped', 'Skipped', 'Skipped', 'Claimed']);
  assert.ok(r.events.slice(0, 7).every((e) => Number(e.args.reason) === 1));
  assert.equal(await chain.balanceOf(provider), amt);
  // The beneficiary that voucher named can claim it: vouchers are per beneficiary.
  const r2 = await claim(chain, elsewhere, [[payer, amt, voucher(chain, payer, elsewhere, amt)]]);
  assert.equal(r2.events[0].name, 'Claimed');
  // A batch whose arrays differ in length is malformed as a whole and reverts.
  const bad = await chain.hubCall(provider, 'claimBatch', [[payer.address], [], []]);
  assert.equal(bad.reverted, true);
});

test('an underfunded payer is paid partially and the rest later', async () => {
  const chain = await fresh();
  const payer = Wallet.createRandom();
  const provider = strip(Wallet.createRandom().address);
  await fund(chain, payer, 60n);
  const v = voucher(chain, payer, provider, 100n);
  let r = await claim(chain, provider, [[payer, 100n, v]]);
  assert.equal(r.events[0].name, 'Claimed');
  assert.equal(r.events[0].args.amount, 60n);
  assert.equal(r.events[0].args.paidTotal, 60n);
  r = await claim(chain, provider, [[payer, 100n, v]]);
  assert.equal(r.events[0].name, 'Skipped');
  assert.equal(Number(r.events[0].args.reason), 3);
  await fund(chain, payer, 100n);
  r = await claim(chain, provider, [[payer, 100n, v]]);
  assert.equal(r.events[0].args.amount, 40n);
  assert.equal(await chain.balanceOf(provider), 100n);
  const [left] = await chain.view('deposits', [payer.address]);
  assert.equal(left, 60n);
});

test('withdraw waits out the delay, and the deposit stays claimable meanwhile', async () => {
  const chain = await fresh();
  const payer = Wallet.createRandom();
  const provider = strip(Wallet.createRandom().address);
  await fund(chain, payer, 100n);
  const t0 = Number(chain.timestamp) * 1000;
  assert.ok((await chain.hubCall(id(payer), 'requestWithdraw', [80n])).ok);
  assert.equal((await chain.hubCall(id(payer), 'requestWithdraw', [101n])).reverted, true);
  chain.setBlock(chain.number + 1n, t0 + 3599_000);
  let w = await chain.hubCall(id(payer), 'withdraw', []);
  assert.equal(w.reverted, true);
  assert.equal(await chain.balanceOf(id(payer)), 0n);
  await claim(chain, provider, [[payer, 30n, voucher(chain, payer, provider, 30n)]]);
  chain.setBlock(chain.number + 1n, t0 + 3600_000);
  w = await chain.hubCall(id(payer), 'withdraw', []);
  assert.ok(w.ok, w.error);
  assert.equal(await chain.balanceOf(id(payer)), 70n); // 80 asked, 70 left after the claim
  assert.equal(await chain.balanceOf(provider), 30n);
  assert.equal((await chain.hubCall(id(payer), 'withdraw', [])).reverted, true);
});

test(`a batch of 100 first-time claims stays within ${ENERGY_BUDGET_100} energy`, async () => {
  const chain = await fresh();
  const provider = strip(Wallet.createRandom().address);
  const entries = [];
  for (let i = 0; i < 100; i++) {
    const p = Wallet.createRandom();
    await fund(chain, p, 100n * E18);
    entries.push([p, BigInt(i + 1) * E18, voucher(chain, p, provider, BigInt(i + 1) * E18)]);
  }
  const r = await claim(chain, provider, entries);
  assert.equal(r.events.filter((e) => e.name === 'Claimed').length, 100);
  assert.equal(await chain.balanceOf(provider), 5050n * E18);
  console.log(`# 100-claim batch: ${r.energy} energy (${Math.round(r.energy / 100)} per claim), budget ${ENERGY_BUDGET_100}`);
  assert.ok(r.energy <= ENERGY_BUDGET_100, `${r.energy} > ${ENERGY_BUDGET_100}`);
  assert.ok(r.energy > 100 * 3000, 'every entry must at least pay for its ecrecover');
});
