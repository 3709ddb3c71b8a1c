// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @notice Providers register, stake, unbond after a delay and withdraw; holders of SLASHER_ROLE slash.
/// Every event carries the provider's totals after the change, so an indexer never reads state.
contract ProviderStaking is AccessControl {
    using SafeERC20 for IERC20;

    bytes32 public constant SLASHER_ROLE = keccak256("SLASHER_ROLE");

    struct Provider {
        bool registered;
        uint256 stake;
        uint256 pendingUnstake;
        uint64 unlockAt;
        uint256 slashedTotal;
        string metadataURI;
    }

    IERC20 public immutable token;
    uint256 public immutable minStake;
    uint64 public immutable unbondingDelay;
    uint256 public totalStaked;

    mapping(address => Provider) private _providers;

    event ProviderRegistered(address indexed provider, string metadataURI);
    event ProviderUpdated(address indexed provider, string metadataURI);
    event Staked(address indexed provider, uint256 amount, uint256 newStake, uint256 totalStaked);
    event UnstakeRequested(
        address indexed provider,
        uint256 amount,
        uint256 newStake,
        uint256 pendingUnstake,
        uint64 unlockAt,
        uint256 totalStaked
    );
    event Unstaked(address indexed provider, uint256 amount);
    event Slashed(
        address indexed provider,
        uint256 amount,
        uint256 newStake,
        uint256 pendingUnstake,
        uint256 slashedTotal,
        bytes32 indexed reason,
        address recipient,
        uint256 totalStaked
    );

    error AlreadyRegistered(address provider);
    error NotRegistered(address provider);
    error ZeroAmount();
    error InsufficientStake(uint256 available, uint256 requested);
    error NothingToWithdraw();
    error UnbondingNotElapsed(uint64 unlockAt, uint64 now_);
    error NothingToSlash(address provider);

    constructor(IERC20 token_, uint256 minStake_, uint64 unbondingDelay_, address admin) {
        token = token_;
        minStake = minStake_;
        unbondingDelay = unbondingDelay_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    function register(string calldata metadataURI) external {
        Provider storage p = _providers[msg.sender];
        if (p.registered) revert AlreadyRegistered(msg.sender);
        p.registered = true;
        p.metadataURI = metadataURI;
        emit ProviderRegistered(msg.sender, metadataURI);
    }

    function updateMetadata(string calldata metadataURI) external {
        Provider storage p = _registered(msg.sender);
        p.metadataURI = metadataURI;
        emit ProviderUpdated(msg.sender, metadataURI);
    }

    function stake(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Provider storage p = _registered(msg.sender);
        p.stake += amount;
        totalStaked += amount;
        token.safeTransferFrom(msg.sender, address(this), amount);
        emit Staked(msg.sender, amount, p.stake, totalStaked);
    }

    /// @notice Moves stake into unbonding; it stops counting for eligibility at once. Each request restarts the delay.
    function requestUnstake(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Provider storage p = _registered(msg.sender);
        if (amount > p.stake) revert InsufficientStake(p.stake, amount);
        p.stake -= amount;
        p.pendingUnstake += amount;
        p.unlockAt = uint64(block.timestamp) + unbondingDelay;
        totalStaked -= amount;
        emit UnstakeRequested(msg.sender, amount, p.stake, p.pendingUnstake, p.unlockAt, totalStaked);
    }

    function withdraw() external {
        Provider storage p = _registered(msg.sender);
        uint256 amount = p.pendingUnstake;
        if (amount == 0) revert NothingToWithdraw();
        if (block.timestamp < p.unlockAt) revert UnbondingNotElapsed(p.unlockAt, uint64(block.timestamp));
        p.pendingUnstake = 0;
        p.unlockAt = 0;
        token.safeTransfer(msg.sender, amount);
        emit Unstaked(msg.sender, amount);
    }

    /// @notice Takes up to `amount` from the provider's stake, then from its pending unstake, and sends it to `recipient`.
    /// @return slashed the amount actually taken
    function slash(address provider, uint256 amount, bytes32 reason, address recipient)
        external
        onlyRole(SLASHER_ROLE)
        returns (uint256 slashed)
    {
        if (amount == 0) revert ZeroAmount();
        Provider storage p = _registered(provider);
        uint256 fromStake = amount < p.stake ? amount : p.stake;
        uint256 rest = amount - fromStake;
        uint256 fromPending = rest < p.pendingUnstake ? rest : p.pendingUnstake;
        slashed = fromStake + fromPending;
        if (slashed == 0) revert NothingToSlash(provider);
        p.stake -= fromStake;
        p.pendingUnstake -= fromPending;
        p.slashedTotal += slashed;
        totalStaked -= fromStake;
        token.safeTransfer(recipient, slashed);
        emit Slashed(provider, slashed, p.stake, p.pendingUnstake, p.slashedTotal, reason, recipient, totalStaked);
    }

    function isEligible(address provider) public view returns (bool) {
        Provider storage p = _providers[provider];
        return p.registered && p.stake >= minStake;
    }

    function getProvider(address provider) external view returns (Provider memory) {
        return _providers[provider];
    }

    function stakeOf(address provider) external view returns (uint256) {
        return _providers[provider].stake;
    }

    function _registered(address provider) private view returns (Provider storage p) {
        p = _providers[provider];
        if (!p.registered) revert NotRegistered(provider);
    }
}
