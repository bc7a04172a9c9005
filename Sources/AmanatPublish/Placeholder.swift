// Redaction and publication of record versions (filled by the move from AmanatCLI).
