// SPDX-License-Identifier: MIT
// seedboxd's claim hub (design.md §7). Payers deposit BTT; providers claim payers' cumulative
// TIP-712 vouchers in batches. paid[payer][beneficiary] only grows, so a replayed or stale voucher
// pays nothing and no voucher can pay twice. One bad entry is skipped with an event, never reverting
// the batch. Compiled by tests/tron/lib/compile.js for an EVM version without PUSH0 (TVM).
pragma solidity 0.8.26;

interface ITRC20 {
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

contract SeedboxClaimHub {
    // Voucher: Claim(address payer,address beneficiary,uint256 cumulative) in the domain
    // {name: "SeedboxClaimHub", version: "1", chainId: block.chainid & 0xffffffff (TIP-474),
    //  verifyingContract: this}. Must match ledger/tron/voucher.cpp.
    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant CLAIM_TYPEHASH =
        keccak256("Claim(address payer,address beneficiary,uint256 cumulative)");
    // secp256k1 n / 2: signatures with a higher s are malleable copies and are refused.
    uint256 private constant HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    // Reasons carried by Skipped.
    uint8 public constant SKIP_BAD_SIGNATURE = 1; // malformed, high-s, or not signed by the payer for msg.sender
    uint8 public constant SKIP_NOT_INCREASING = 2; // cumulative <= paid: replay or stale voucher
    uint8 public constant SKIP_NO_DEPOSIT = 3; // the payer has nothing deposited

    ITRC20 public immutable token;
    uint64 public immutable withdrawDelay;
    bytes32 public immutable domainSeparator;

    mapping(address => uint256) public deposits;
    mapping(address => mapping(address => uint256)) public paid;
    mapping(address => uint256) public withdrawAmount;
    mapping(address => uint64) public withdrawNotBefore;

    event Deposited(address indexed payer, uint256 amount, uint256 balance);
    event WithdrawRequested(address indexed payer, uint256 amount, uint64 notBefore);
    event Withdrawn(address indexed payer, uint256 amount);
    event Claimed(address indexed payer, address indexed beneficiary, uint256 cumulative, uint256 amount,
                  uint256 paidTotal);
    event Skipped(address indexed payer, address indexed beneficiary, uint256 cumulative, uint8 reason);

    constructor(ITRC20 token_, uint64 withdrawDelay_) {
        token = token_;
        withdrawDelay = withdrawDelay_;
        domainSeparator = keccak256(abi.encode(DOMAIN_TYPEHASH, keccak256("SeedboxClaimHub"), keccak256("1"),
                                               block.chainid & 0xffffffff, address(this)));
    }

    function deposit(uint256 amount) external {
        require(amount > 0, "amount is zero");
        deposits[msg.sender] += amount;
        emit Deposited(msg.sender, amount, deposits[msg.sender]);
        require(token.transferFrom(msg.sender, address(this), amount), "transferFrom failed");
    }

    // Starts the delay; the deposit stays claimable until withdraw() so providers can settle what
    // they were promised. A new request replaces the previous one and restarts the delay.
    function requestWithdraw(uint256 amount) external {
        require(amount > 0 && amount <= deposits[msg.sender], "amount exceeds deposit");
        uint64 notBefore = uint64(block.timestamp) + withdrawDelay;
        withdrawAmount[msg.sender] = amount;
        withdrawNotBefore[msg.sender] = notBefore;
        emit WithdrawRequested(msg.sender, amount, notBefore);
    }

    function withdraw() external {
        uint256 requested = withdrawAmount[msg.sender];
        require(requested > 0, "no withdrawal requested");
        require(block.timestamp >= withdrawNotBefore[msg.sender], "withdraw delay not over");
        uint256 amount = requested < deposits[msg.sender] ? requested : deposits[msg.sender];
        withdrawAmount[msg.sender] = 0;
        withdrawNotBefore[msg.sender] = 0;
        deposits[msg.sender] -= amount;
        emit Withdrawn(msg.sender, amount);
        if (amount > 0)
            require(token.transfer(msg.sender, amount), "transfer failed");
    }

    function claimDigest(address payer, address beneficiary, uint256 cumulative) public view returns (bytes32) {
        bytes32 s = keccak256(abi.encode(CLAIM_TYPEHASH, payer, beneficiary, cumulative));
        return keccak256(abi.encodePacked(hex"1901", domainSeparator, s));
    }

    // Pays msg.sender, for each entry, min(cumulative - paid, deposit) and returns the total. State
    // is updated for every entry before the single token transfer.
    function claimBatch(address[] calldata payers, uint256[] calldata cumulative, bytes[] calldata sigs)
        external
        returns (uint256 total)
    {
        require(payers.length == cumulative.length && payers.length == sigs.length, "length mismatch");
        for (uint256 i = 0; i < payers.length; ++i) {
            address payer = payers[i];
            uint256 cum = cumulative[i];
            uint256 already = paid[payer][msg.sender];
            if (!signedBy(payer, cum, sigs[i])) {
                emit Skipped(payer, msg.sender, cum, SKIP_BAD_SIGNATURE);
                continue;
            }
            if (cum <= already) {
                emit Skipped(payer, msg.sender, cum, SKIP_NOT_INCREASING);
                continue;
            }
            uint256 available = deposits[payer];
            if (available == 0) {
                emit Skipped(payer, msg.sender, cum, SKIP_NO_DEPOSIT);
                continue;
            }
            uint256 amount = cum - already;
            if (amount > available)
                amount = available; // partial: the rest stays claimable with a later batch
            paid[payer][msg.sender] = already + amount;
            deposits[payer] = available - amount;
            total += amount;
            emit Claimed(payer, msg.sender, cum, amount, already + amount);
        }
        if (total > 0)
            require(token.transfer(msg.sender, total), "transfer failed");
    }

    function signedBy(address payer, uint256 cum, bytes calldata sig) private view returns (bool) {
        if (sig.length != 65 || payer == address(0))
            return false;
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        if (v < 27)
            v += 27;
        if ((v != 27 && v != 28) || uint256(s) > HALF_N)
            return false;
        return ecrecover(claimDigest(payer, msg.sender, cum), v, r, s) == payer;
    }
}
