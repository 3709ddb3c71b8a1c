// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

interface IRewardPool {
    /// @notice Called by JobMarket after it transferred `payment` to the pool: pays the provider net of `fee`.
    function payJob(uint256 jobId, address provider, uint256 payment, uint256 fee) external;
}
