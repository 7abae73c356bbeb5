// SPDX-License-Identifier: MIT
// A TRC-20 stand-in for BTT in tests: OpenZeppelin's ERC-20 (18 decimals) plus a faucet that only
// the deployer (the test double) may use.
pragma solidity 0.8.26;

import "@openzeppelin/contracts/token/ERC20/ERC20.sol";

contract TestToken is ERC20 {
    address private immutable minter;

    constructor() ERC20("BitTorrent (test)", "BTT") {
        minter = msg.sender;
    }

    function mint(address to, uint256 amount) external {
        require(msg.sender == minter, "only the deployer mints");
        _mint(to, amount);
    }
}
