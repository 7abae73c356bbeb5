'use strict';
// Compiles the claim hub and the test token with the pinned solc from npm, for an EVM version
// without PUSH0 (TRON's TVM has none), and caches the result under build/ keyed by the sources and
// the compiler version. Run directly to (re)build: node lib/compile.js
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const solc = require('solc');

const ROOT = path.join(__dirname, '..');
const EVM_VERSION = 'istanbul';
// The hub is product code (ledger/contracts); the token is a test stand-in for BTT.
const SOURCES = { 'ClaimHub.sol': path.join(ROOT, '..', '..', 'ledger', 'contracts', 'ClaimHub.sol'),
  'TestToken.sol': path.join(ROOT, 'contracts', 'TestToken.sol') };

function findImport(p) {
  for (const base of [path.join(ROOT, 'node_modules'), ROOT]) {
    const f = path.join(base, p);
    if (fs.existsSync(f)) return { contents: fs.readFileSync(f, 'utf8') };
  }
  return { error: `not found: ${p}` };
}

// Walks the bytecode opcode by opcode (skipping PUSH data) and returns the offsets of PUSH0 (0x5f).
function push0Offsets(hex) {
  const code = Buffer.from(hex, 'hex');
  const found = [];
  for (let i = 0; i < code.length; i++) {
    const op = code[i];
    if (op === 0x5f) found.push(i);
    if (op >= 0x60 && op <= 0x7f) i += op - 0x5f;
  }
  return found;
}

function compile() {
  const sources = {};
  for (const [name, file] of Object.entries(SOURCES)) sources[name] = { content: fs.readFileSync(file, 'utf8') };
  const key = crypto.createHash('sha256').update(solc.version() + EVM_VERSION + JSON.stringify(sources)).digest('hex');
  const cache = path.join(ROOT, 'build', 'contracts.json');
  if (fs.existsSync(cache)) {
    const c = JSON.parse(fs.readFileSync(cache, 'utf8'));
    if (c.key === key) return c;
  }
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  const errors = (out.errors || []).filter((e) => e.severity === 'error');
  if (errors.length) throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  const pick = (file, name) => {
    const c = out.contracts[file][name];
    return { abi: c.abi, bytecode: c.evm.bytecode.object, deployed: c.evm.deployedBytecode.object };
  };
  const result = {
    key,
    solc: solc.version(),
    evmVersion: EVM_VERSION,
    hub: pick('ClaimHub.sol', 'SeedboxClaimHub'),
    token: pick('TestToken.sol', 'TestToken'),
  };
  fs.mkdirSync(path.dirname(cache), { recursive: true });
  const tmp = `${cache}.${process.pid}.tmp`; // parallel test runs: write then rename
  fs.writeFileSync(tmp, JSON.stringify(result));
  fs.renameSync(tmp, cache);
  return result;
}

module.exports = { compile, push0Offsets, EVM_VERSION };

if (require.main === module) {
  const r = compile();
  console.log(`solc ${r.solc}, evm ${r.evmVersion}: hub ${r.hub.deployed.length / 2} bytes, token ${r.token.deployed.length / 2} bytes`);
}
