import Testing

@Suite("AmanatWorkspace") struct WorkspacePlaceholderTests {}
