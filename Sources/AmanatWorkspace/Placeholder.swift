// The application library: see AmanatWorkspace.docc (filled by the move from AmanatCLI).
