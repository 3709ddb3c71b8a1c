// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @notice The ERC-20 used for payment and stake on a local chain; production deployments may use any ERC-20.
contract ComputeToken is ERC20, Ownable {
    constructor(address owner_) ERC20("Compute Token", "CPT") Ownable(owner_) {}

    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
