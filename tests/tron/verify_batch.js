'use strict';
// Decodes and verifies a signed claimBatch transaction with tronweb, independently of seedboxd:
// reads {"transaction": "<signed Transaction hex>"} on stdin, prints what tronweb and ethers see.
// Used by tests/integration/test_settlement.py for batches taken from settlement.batches.
const crypto = require('node:crypto');
const { utils, Trx, TronWeb } = require('tronweb');
const { Interface } = require('ethers');
const { splitTransaction } = require('./lib/protobuf');

const hubAbi = new Interface(['function claimBatch(address[] payers, uint256[] cumulative, bytes[] sigs) returns (uint256)']);

let input = '';
process.stdin.on('data', (c) => { input += c; });
process.stdin.on('end', () => {
  const { transaction } = JSON.parse(input);
  const { raw, signatures, contractType } = splitTransaction(Buffer.from(transaction, 'hex'));
  const rawHex = raw.toString('hex');
  const d = utils.deserializeTx.deserializeTransaction('TriggerSmartContract', rawHex);
  const p = d.contract[0].parameter.value;
  const tx = {
    txID: crypto.createHash('sha256').update(raw).digest('hex'),
    raw_data: {
      contract: [{ parameter: { value: { data: p.data.toLowerCase(), owner_address: p.owner_address.toLowerCase(),
        contract_address: p.contract_address.toLowerCase() }, type_url: 'type.googleapis.com/protocol.TriggerSmartContract' },
      type: 'TriggerSmartContract' }],
      ref_block_bytes: d.ref_block_bytes.toLowerCase(), ref_block_hash: d.ref_block_hash.toLowerCase(),
      expiration: d.expiration, timestamp: d.timestamp, fee_limit: d.fee_limit,
    },
    raw_data_hex: rawHex,
    signature: signatures.map((s) => s.toString('hex')),
  };
  // txPbToTxID re-serializes raw_data from the JSON: equal only if our bytes are canonical.
  const reserialized = utils.transaction.txPbToTxID(utils.transaction.txJsonToPb(tx)).replace(/^0x/, '');
  const recovered = Trx.ecRecover(tx); // also checks the txID against raw_data
  const call = hubAbi.parseTransaction({ data: '0x' + tx.raw_data.contract[0].parameter.value.data });
  const out = {
    contract_type: contractType,
    txid: tx.txID,
    txid_reserialized: reserialized,
    signer: recovered,
    owner: TronWeb.address.fromHex(p.owner_address),
    contract: TronWeb.address.fromHex(p.contract_address),
    function: call.signature,
    payers: call.args.payers.map((a) => TronWeb.address.fromHex('41' + a.slice(2))),
    cumulative: call.args.cumulative.map((v) => v.toString()),
    sigs: call.args.sigs.map((s) => s.slice(2)),
    fee_limit: d.fee_limit,
    expiration: d.expiration,
    ref_block_bytes: tx.raw_data.ref_block_bytes,
    ref_block_hash: tx.raw_data.ref_block_hash,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
});
