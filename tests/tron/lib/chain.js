'use strict';
// The real compiled hub and test token running in @ethereumjs/evm, with TRON-like addresses
// (20-byte EVM addresses; the 0x41 prefix is the caller's business) and energy = execution gas.
const { createEVM } = require('@ethereumjs/evm');
const { createCustomCommon, Mainnet, Hardfork } = require('@ethereumjs/common');
const { SimpleStateManager } = require('@ethereumjs/statemanager');
const { createAddressFromString, hexToBytes, bytesToHex, createZeroAddress } = require('@ethereumjs/util');
const { AbiCoder, Interface } = require('ethers');
const { compile } = require('./compile');

const DEPLOYER = '00000000000000000000000000000000000000d0';
const abi = AbiCoder.defaultAbiCoder();

function addr(h) {
  return createAddressFromString('0x' + h.replace(/^0x/, '').slice(-40));
}
const strip = (h) => h.replace(/^0x/, '').toLowerCase();

class Chain {
  constructor({ chainId = 728126428, withdrawDelay = 3600 } = {}) {
    this.chainId = chainId;
    this.withdrawDelay = withdrawDelay;
    this.number = 1n;
    this.timestamp = BigInt(Math.floor(Date.now() / 1000));
  }

  async init() {
    this.artifacts = compile();
    this.hubIface = new Interface(this.artifacts.hub.abi);
    this.tokenIface = new Interface(this.artifacts.token.abi);
    const common = createCustomCommon({ chainId: this.chainId }, Mainnet, { hardfork: Hardfork.Istanbul });
    this.state = new SimpleStateManager();
    this.evm = await createEVM({ common, stateManager: this.state });
    this.token = await this.deploy(DEPLOYER, this.artifacts.token.bytecode, '');
    this.hub = await this.deploy(DEPLOYER, this.artifacts.hub.bytecode,
      strip(abi.encode(['address', 'uint64'], ['0x' + this.token, this.withdrawDelay])));
    return this;
  }

  setBlock(number, timestampMs) {
    this.number = BigInt(number);
    this.timestamp = BigInt(Math.floor(timestampMs / 1000));
  }

  block() {
    return {
      header: {
        number: this.number,
        coinbase: createZeroAddress(),
        timestamp: this.timestamp,
        difficulty: 0n,
        prevRandao: new Uint8Array(32),
        gasLimit: 100_000_000n,
        baseFeePerGas: undefined,
        slotNumber: 0n,
        getBlobGasPrice: () => undefined,
      },
    };
  }

  async deploy(from, bytecode, argsHex) {
    const nonce = (await this.state.getAccount(addr(from)))?.nonce ?? 0n;
    const r = await this.evm.runCall({
      caller: addr(from), data: hexToBytes('0x' + bytecode + argsHex), gasLimit: 30_000_000n, block: this.block(),
    });
    if (r.execResult.exceptionError) throw new Error(`deploy failed: ${r.execResult.exceptionError.error}`);
    await this.bumpNonce(from, nonce);
    return strip(r.createdAddress.toString());
  }

  async bumpNonce(from, nonce) {
    const a = addr(from);
    const acct = await this.state.getAccount(a);
    if (acct && acct.nonce === nonce) {
      acct.nonce = nonce + 1n;
      await this.state.putAccount(a, acct);
    }
  }

  // Runs calldata from `from` against `to`. commit=false runs it against a checkpoint that is
  // thrown away (triggerconstantcontract). Returns {ok, reverted, returnHex, energy, logs, error}.
  async call(from, to, dataHex, { commit = true, energyLimit = 100_000_000 } = {}) {
    await this.state.checkpoint();
    let r;
    try {
      r = await this.evm.runCall({
        caller: addr(from), to: addr(to), data: hexToBytes('0x' + strip(dataHex)),
        gasLimit: BigInt(energyLimit), block: this.block(),
      });
    } catch (e) {
      await this.state.revert();
      throw e;
    }
    const ex = r.execResult;
    const err = ex.exceptionError ? ex.exceptionError.error : null;
    if (commit && !err) await this.state.commit();
    else await this.state.revert();
    return {
      ok: !err,
      reverted: err === 'revert',
      error: err,
      returnHex: strip(bytesToHex(ex.returnValue)),
      energy: Number(ex.executionGasUsed),
      logs: (ex.logs || []).map(([a, topics, data]) => ({
        address: strip(bytesToHex(a)), topics: topics.map((t) => strip(bytesToHex(t))), data: strip(bytesToHex(data)),
      })),
    };
  }

  // Helpers used by tests and the test double's faucet.
  async tokenCall(from, fn, args, opts) {
    return this.call(from, this.token, this.tokenIface.encodeFunctionData(fn, args), opts);
  }
  async hubCall(from, fn, args, opts) {
    return this.call(from, this.hub, this.hubIface.encodeFunctionData(fn, args), opts);
  }
  async mint(to, amount) {
    const r = await this.tokenCall(DEPLOYER, 'mint', ['0x' + strip(to), amount]);
    if (!r.ok) throw new Error('mint failed');
  }
  async balanceOf(who) {
    const r = await this.tokenCall(DEPLOYER, 'balanceOf', ['0x' + strip(who)], { commit: false });
    return BigInt('0x' + r.returnHex);
  }
  async view(fn, args) {
    const r = await this.hubCall(DEPLOYER, fn, args, { commit: false });
    if (!r.ok) throw new Error(`${fn} reverted`);
    return this.hubIface.decodeFunctionResult(fn, '0x' + r.returnHex);
  }
  decodeHubLogs(logs) {
    return logs.filter((l) => l.address === this.hub).map((l) => {
      const p = this.hubIface.parseLog({ topics: l.topics.map((t) => '0x' + t), data: '0x' + l.data });
      return { name: p.name, args: p.args };
    });
  }
}

module.exports = { Chain, DEPLOYER, strip };
