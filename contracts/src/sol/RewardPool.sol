// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IRewardPool} from "./IRewardPool.sol";

/// @notice Pays providers for jobs, collects protocol fees, and splits each finalized epoch's unreserved balance
/// (fees, funding, slashed stake) among providers in proportion to the payment value of the work they completed.
contract RewardPool is IRewardPool, AccessControl {
    using SafeERC20 for IERC20;

    struct Epoch {
        uint64 startedAt;
        uint64 finalizedAt;
        uint256 rewards;
        uint256 totalWork;
        uint256 claimedWork;
        uint256 claimed;
    }

    IERC20 public immutable token;
    uint64 public immutable epochDuration;
    address public jobMarket;
    uint256 public currentEpoch;
    /// @dev Owed to providers for finalized epochs and not yet claimed; the rest of the balance is next epoch's.
    uint256 public reserved;

    mapping(uint256 => Epoch) private _epochs;
    mapping(uint256 => mapping(address => uint256)) public workOf;
    mapping(uint256 => mapping(address => bool)) public claimed;

    event JobMarketSet(address jobMarket);
    event RewardPaid(
        address indexed provider, uint256 indexed jobId, uint256 amount, uint256 fee, uint256 indexed epoch, uint256 work
    );
    event RewardsFunded(address indexed funder, uint256 amount, uint256 indexed epoch);
    event EpochFinalized(
        uint256 indexed epoch, uint256 rewards, uint256 totalWork, uint64 startedAt, uint64 finalizedAt
    );
    event RewardClaimed(uint256 indexed epoch, address indexed provider, uint256 amount);

    error NotJobMarket(address caller);
    error JobMarketAlreadySet(address jobMarket);
    error EpochNotOver(uint64 endsAt);
    error EpochNotFinalized(uint256 epoch);
    error NothingToClaim(uint256 epoch, address provider);
    error AlreadyClaimed(uint256 epoch, address provider);
    error ZeroAmount();

    constructor(IERC20 token_, uint64 epochDuration_, address admin) {
        token = token_;
        epochDuration = epochDuration_;
        _epochs[0].startedAt = uint64(block.timestamp);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    function setJobMarket(address jobMarket_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (jobMarket != address(0)) revert JobMarketAlreadySet(jobMarket);
        jobMarket = jobMarket_;
        emit JobMarketSet(jobMarket_);
    }

    function payJob(uint256 jobId, address provider, uint256 payment, uint256 fee) external {
        if (msg.sender != jobMarket) revert NotJobMarket(msg.sender);
        uint256 epoch = currentEpoch;
        uint256 amount = payment - fee;
        workOf[epoch][provider] += payment;
        _epochs[epoch].totalWork += payment;
        token.safeTransfer(provider, amount);
        emit RewardPaid(provider, jobId, amount, fee, epoch, workOf[epoch][provider]);
    }

    function fund(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        token.safeTransferFrom(msg.sender, address(this), amount);
        emit RewardsFunded(msg.sender, amount, currentEpoch);
    }

    /// @notice Anyone may close the current epoch once it has lasted epochDuration. An epoch without work
    /// reserves nothing, so its balance rolls over to the next.
    function finalizeEpoch() external {
        uint256 epoch = currentEpoch;
        Epoch storage e = _epochs[epoch];
        uint64 endsAt = e.startedAt + epochDuration;
        if (block.timestamp < endsAt) revert EpochNotOver(endsAt);
        uint256 rewards = e.totalWork == 0 ? 0 : token.balanceOf(address(this)) - reserved;
        e.rewards = rewards;
        e.finalizedAt = uint64(block.timestamp);
        reserved += rewards;
        currentEpoch = epoch + 1;
        _epochs[epoch + 1].startedAt = uint64(block.timestamp);
        emit EpochFinalized(epoch, rewards, e.totalWork, e.startedAt, e.finalizedAt);
    }

    function claim(uint256 epoch) external returns (uint256 amount) {
        Epoch storage e = _epochs[epoch];
        if (e.finalizedAt == 0) revert EpochNotFinalized(epoch);
        if (claimed[epoch][msg.sender]) revert AlreadyClaimed(epoch, msg.sender);
        uint256 work = workOf[epoch][msg.sender];
        if (work == 0) revert NothingToClaim(epoch, msg.sender);
        claimed[epoch][msg.sender] = true;
        e.claimedWork += work;
        // The last claimant takes the rounding remainder, so an epoch pays out exactly its rewards.
        amount = e.claimedWork == e.totalWork ? e.rewards - e.claimed : e.rewards * work / e.totalWork;
        e.claimed += amount;
        reserved -= amount;
        token.safeTransfer(msg.sender, amount);
        emit RewardClaimed(epoch, msg.sender, amount);
    }

    function pendingReward(uint256 epoch, address provider) external view returns (uint256) {
        Epoch storage e = _epochs[epoch];
        uint256 work = workOf[epoch][provider];
        if (e.finalizedAt == 0 || claimed[epoch][provider] || work == 0) return 0;
        if (e.claimedWork + work == e.totalWork) return e.rewards - e.claimed;
        return e.rewards * work / e.totalWork;
    }

    function getEpoch(uint256 epoch) external view returns (Epoch memory) {
        return _epochs[epoch];
    }
}
