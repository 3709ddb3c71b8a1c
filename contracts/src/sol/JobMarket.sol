// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ProviderStaking} from "./ProviderStaking.sol";
import {IRewardPool} from "./IRewardPool.sol";

/// @notice Clients post inference and training jobs with escrowed payment; a staked provider is assigned and is paid
/// once JobMarket has verified its EIP-712 ComputeReceipt on-chain. Cancel and expiry refund; disputes slash.
contract JobMarket is AccessControl, EIP712 {
    using SafeERC20 for IERC20;

    bytes32 public constant DISPATCHER_ROLE = keccak256("DISPATCHER_ROLE");
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");

    /// @dev Field order and types must match contracts/src/receipts.ts.
    bytes32 public constant RECEIPT_TYPEHASH = keccak256(
        "ComputeReceipt(bytes32 requestHash,bytes32 outputHash,bytes32 modelId,bytes32 runtimeId,address requester,address worker,uint256 jobId,uint64 units,uint256 price,uint64 issuedAt,uint64 expiresAt,uint256 nonce)"
    );
    uint16 public constant MAX_FEE_BPS = 5_000;
    /// @dev Worker clocks and block timestamps drift; a receipt may be issued this far ahead of the block.
    uint64 public constant MAX_CLOCK_SKEW = 300;

    enum JobKind {
        INFERENCE,
        TRAINING
    }

    enum JobStatus {
        OPEN,
        ASSIGNED,
        COMPLETED,
        CANCELLED,
        EXPIRED,
        DISPUTED
    }

    struct ComputeReceipt {
        bytes32 requestHash;
        bytes32 outputHash;
        bytes32 modelId;
        bytes32 runtimeId;
        address requester;
        address worker;
        uint256 jobId;
        uint64 units;
        uint256 price;
        uint64 issuedAt;
        uint64 expiresAt;
        uint256 nonce;
    }

    struct Job {
        address client;
        JobKind kind;
        JobStatus status;
        address provider;
        uint64 deadline;
        uint64 completedAt;
        bytes32 modelId;
        bytes32 inputHash;
        bytes32 outputHash;
        uint256 payment;
    }

    struct Model {
        address owner;
        string uri;
    }

    IERC20 public immutable token;
    ProviderStaking public immutable staking;
    IRewardPool public immutable rewardPool;
    uint16 public immutable feeBps;
    uint64 public immutable disputeWindow;

    uint256 public jobCount;
    mapping(uint256 => Job) private _jobs;
    mapping(bytes32 => Model) private _models;
    mapping(address => mapping(uint256 => bool)) public nonceUsed;
    /// @dev An upheld dispute leaves its job DISPUTED for good; without this it could be resolved, and refunded, again.
    mapping(uint256 => bool) private _disputeSettled;

    event ModelRegistered(bytes32 indexed modelId, address indexed owner, string uri);
    event JobCreated(
        uint256 indexed jobId,
        address indexed client,
        bytes32 indexed modelId,
        JobKind kind,
        bytes32 inputHash,
        uint256 payment,
        uint64 deadline
    );
    event JobAssigned(uint256 indexed jobId, address indexed provider, address assignedBy);
    event JobCompleted(
        uint256 indexed jobId,
        address indexed provider,
        bytes32 outputHash,
        bytes32 receiptDigest,
        uint256 payment,
        uint256 fee
    );
    event JobCancelled(uint256 indexed jobId, address indexed client, uint256 refund);
    event JobExpired(uint256 indexed jobId, address indexed client, uint256 refund);
    event JobDisputed(uint256 indexed jobId, address indexed by, bytes32 evidenceHash);
    event DisputeResolved(
        uint256 indexed jobId, address indexed provider, bool providerAtFault, uint256 slashed, uint256 refund
    );

    error ModelExists(bytes32 modelId);
    error UnknownModel(bytes32 modelId);
    error UnknownJob(uint256 jobId);
    error ZeroPayment();
    error DeadlinePassed(uint64 deadline);
    error WrongStatus(uint256 jobId, JobStatus status);
    error NotClient(uint256 jobId, address caller);
    error NotAuthorizedToAssign(address caller, address provider);
    error ProviderNotEligible(address provider);
    error DeadlineNotReached(uint64 deadline);
    error ReceiptExpired(uint64 expiresAt);
    error ReceiptFromFuture(uint64 issuedAt);
    error ReceiptMismatch(string field);
    error InvalidSigner(address recovered, address expected);
    error NonceUsed(address worker, uint256 nonce);
    error DisputeWindowClosed(uint64 closedAt);
    error DisputeAlreadyResolved(uint256 jobId);
    error FeeTooHigh(uint16 feeBps);

    constructor(
        IERC20 token_,
        ProviderStaking staking_,
        IRewardPool rewardPool_,
        uint16 feeBps_,
        uint64 disputeWindow_,
        address admin
    ) EIP712("computegraph", "1") {
        if (feeBps_ > MAX_FEE_BPS) revert FeeTooHigh(feeBps_);
        token = token_;
        staking = staking_;
        rewardPool = rewardPool_;
        feeBps = feeBps_;
        disputeWindow = disputeWindow_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @param modelId keccak256 of the model's ONNX bytes
    function registerModel(bytes32 modelId, string calldata uri) external {
        if (_models[modelId].owner != address(0)) revert ModelExists(modelId);
        _models[modelId] = Model(msg.sender, uri);
        emit ModelRegistered(modelId, msg.sender, uri);
    }

    /// @param inputHash keccak256 of the exact request bytes the provider will sign as `requestHash`
    function createJob(bytes32 modelId, JobKind kind, bytes32 inputHash, uint256 payment, uint64 deadline)
        external
        returns (uint256 jobId)
    {
        if (_models[modelId].owner == address(0)) revert UnknownModel(modelId);
        if (payment == 0) revert ZeroPayment();
        if (deadline <= block.timestamp) revert DeadlinePassed(deadline);
        jobId = ++jobCount;
        _jobs[jobId] = Job({
            client: msg.sender,
            kind: kind,
            status: JobStatus.OPEN,
            provider: address(0),
            deadline: deadline,
            completedAt: 0,
            modelId: modelId,
            inputHash: inputHash,
            outputHash: bytes32(0),
            payment: payment
        });
        token.safeTransferFrom(msg.sender, address(this), payment);
        emit JobCreated(jobId, msg.sender, modelId, kind, inputHash, payment, deadline);
    }

    /// @notice A provider takes an open job itself, or a dispatcher assigns one to it.
    function assignJob(uint256 jobId, address provider) external {
        Job storage job = _job(jobId);
        if (msg.sender != provider && !hasRole(DISPATCHER_ROLE, msg.sender)) {
            revert NotAuthorizedToAssign(msg.sender, provider);
        }
        if (job.status != JobStatus.OPEN) revert WrongStatus(jobId, job.status);
        if (block.timestamp >= job.deadline) revert DeadlinePassed(job.deadline);
        if (!staking.isEligible(provider)) revert ProviderNotEligible(provider);
        job.status = JobStatus.ASSIGNED;
        job.provider = provider;
        emit JobAssigned(jobId, provider, msg.sender);
    }

    /// @notice Anyone may relay the assigned provider's signed receipt; the provider is paid net of the protocol fee.
    function submitResult(ComputeReceipt calldata receipt, bytes calldata signature) external {
        uint256 jobId = receipt.jobId;
        Job storage job = _job(jobId);
        if (job.status != JobStatus.ASSIGNED) revert WrongStatus(jobId, job.status);
        if (block.timestamp > job.deadline) revert DeadlinePassed(job.deadline);
        if (block.timestamp > receipt.expiresAt) revert ReceiptExpired(receipt.expiresAt);
        if (receipt.issuedAt > block.timestamp + MAX_CLOCK_SKEW) revert ReceiptFromFuture(receipt.issuedAt);
        if (receipt.worker != job.provider) revert ReceiptMismatch("worker");
        if (receipt.requester != job.client) revert ReceiptMismatch("requester");
        if (receipt.modelId != job.modelId) revert ReceiptMismatch("modelId");
        if (receipt.requestHash != job.inputHash) revert ReceiptMismatch("requestHash");
        if (receipt.price != job.payment) revert ReceiptMismatch("price");
        bytes32 digest = hashReceipt(receipt);
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signature);
        if (err != ECDSA.RecoverError.NoError || signer != job.provider) revert InvalidSigner(signer, job.provider);
        if (nonceUsed[signer][receipt.nonce]) revert NonceUsed(signer, receipt.nonce);
        if (!staking.isEligible(signer)) revert ProviderNotEligible(signer);

        nonceUsed[signer][receipt.nonce] = true;
        job.status = JobStatus.COMPLETED;
        job.outputHash = receipt.outputHash;
        job.completedAt = uint64(block.timestamp);
        uint256 payment = job.payment;
        uint256 fee = payment * feeBps / 10_000;
        token.safeTransfer(address(rewardPool), payment);
        rewardPool.payJob(jobId, signer, payment, fee);
        emit JobCompleted(jobId, signer, receipt.outputHash, digest, payment, fee);
    }

    function cancelJob(uint256 jobId) external {
        Job storage job = _job(jobId);
        if (msg.sender != job.client) revert NotClient(jobId, msg.sender);
        if (job.status != JobStatus.OPEN) revert WrongStatus(jobId, job.status);
        job.status = JobStatus.CANCELLED;
        token.safeTransfer(job.client, job.payment);
        emit JobCancelled(jobId, job.client, job.payment);
    }

    /// @notice Anyone may expire an open or assigned job once its deadline has passed; the client is refunded.
    function expireJob(uint256 jobId) external {
        Job storage job = _job(jobId);
        if (job.status != JobStatus.OPEN && job.status != JobStatus.ASSIGNED) revert WrongStatus(jobId, job.status);
        if (block.timestamp <= job.deadline) revert DeadlineNotReached(job.deadline);
        job.status = JobStatus.EXPIRED;
        token.safeTransfer(job.client, job.payment);
        emit JobExpired(jobId, job.client, job.payment);
    }

    /// @notice The client (within the dispute window) or an arbiter (any time) disputes a completed job.
    function disputeJob(uint256 jobId, bytes32 evidenceHash) external {
        Job storage job = _job(jobId);
        if (job.status != JobStatus.COMPLETED) revert WrongStatus(jobId, job.status);
        if (!hasRole(ARBITER_ROLE, msg.sender)) {
            if (msg.sender != job.client) revert NotClient(jobId, msg.sender);
            uint64 closedAt = job.completedAt + disputeWindow;
            if (block.timestamp > closedAt) revert DisputeWindowClosed(closedAt);
        }
        job.status = JobStatus.DISPUTED;
        emit JobDisputed(jobId, msg.sender, evidenceHash);
    }

    /// @notice Upholding a dispute slashes the provider up to `slashAmount`, refunds the client from it (up to the
    /// payment) and sends the rest to the reward pool; rejecting it returns the job to COMPLETED.
    function resolveDispute(uint256 jobId, bool providerAtFault, uint256 slashAmount)
        external
        onlyRole(ARBITER_ROLE)
    {
        Job storage job = _job(jobId);
        if (job.status != JobStatus.DISPUTED) revert WrongStatus(jobId, job.status);
        if (_disputeSettled[jobId]) revert DisputeAlreadyResolved(jobId);
        uint256 slashed;
        uint256 refund;
        if (providerAtFault) {
            _disputeSettled[jobId] = true;
            if (slashAmount > 0) {
                slashed = staking.slash(job.provider, slashAmount, bytes32(jobId), address(this));
            }
            refund = slashed < job.payment ? slashed : job.payment;
            if (refund > 0) token.safeTransfer(job.client, refund);
            if (slashed > refund) token.safeTransfer(address(rewardPool), slashed - refund);
        } else {
            job.status = JobStatus.COMPLETED;
        }
        emit DisputeResolved(jobId, job.provider, providerAtFault, slashed, refund);
    }

    function getJob(uint256 jobId) external view returns (Job memory) {
        return _jobs[jobId];
    }

    function getModel(bytes32 modelId) external view returns (Model memory) {
        return _models[modelId];
    }

    /// @notice The EIP-712 digest a provider signs; equal to hashReceipt in contracts/src/receipts.ts.
    function hashReceipt(ComputeReceipt calldata r) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    RECEIPT_TYPEHASH,
                    r.requestHash,
                    r.outputHash,
                    r.modelId,
                    r.runtimeId,
                    r.requester,
                    r.worker,
                    r.jobId,
                    r.units,
                    r.price,
                    r.issuedAt,
                    r.expiresAt,
                    r.nonce
                )
            )
        );
    }

    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function _job(uint256 jobId) private view returns (Job storage job) {
        if (jobId == 0 || jobId > jobCount) revert UnknownJob(jobId);
        job = _jobs[jobId];
    }
}
