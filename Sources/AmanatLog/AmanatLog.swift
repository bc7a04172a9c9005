// The organization's append-only log: RFC 6962 Merkle tree hashing, C2SP checkpoints, signed notes, proofs.
